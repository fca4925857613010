/* Xen system time: nanoseconds since the host booted. */
#ifndef PVMM_TIME_H
#define PVMM_TIME_H

#include <pvmm/types.h>

#define NSEC_PER_MSEC   1000000UL
#define NSEC_PER_SEC    1000000000UL

uint64_t time_now_ns(void);

static inline uint64_t rdtsc(void)
{
    uint32_t lo, hi;

    asm volatile ( "rdtsc" : "=a" (lo), "=d" (hi) );
    return ((uint64_t)hi << 32) | lo;
}

#endif /* PVMM_TIME_H */
