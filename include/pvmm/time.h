/*
 * Xen system time: nanoseconds since the host booted.  docs/boot.md
 * ("Time") says what the clock guarantees under Xen's TSC modes.
 */
#ifndef PVMM_TIME_H
#define PVMM_TIME_H

#include <pvmm/types.h>

#define NSEC_PER_USEC   1000UL
#define NSEC_PER_MSEC   1000000UL
#define NSEC_PER_SEC    1000000000UL

/*
 * The kernel's clock: Xen system time, never less than the value it
 * returned before.  It may stand still for a while (see docs/boot.md), so
 * wait for time with time_sleep_until(), not by expecting it to move.
 */
uint64_t time_now_ns(void);

/* Xen system time as this vcpu's time record gives it, not clamped. */
uint64_t time_xen_ns(void);

/*
 * TSC ticks to ns with a vcpu_time_info scale: ((delta << shift) * mul) >>
 * 32, in 128 bits.  The shift comes first and may be positive (a TSC below
 * 1 GHz), so in 64 bits a delta of a few seconds of ticks would lose its
 * top bits before the multiply (tests/host/test_time.c).
 */
static inline uint64_t time_scale_delta(uint64_t delta, uint32_t mul,
                                        int8_t shift)
{
    unsigned __int128 d = delta;

    if ( shift < 0 )
        d >>= -shift;
    else
        d <<= shift;
    return (uint64_t)((d * mul) >> 32);
}

/*
 * Blocks in Xen until its timer reaches deadline_ns (Xen system time) or
 * an event arrives; Xen's return code.  It may return early.
 */
long time_block_until(uint64_t deadline_ns);

/* Returns once time_now_ns() >= deadline_ns, blocking in Xen meanwhile. */
void time_sleep_until(uint64_t deadline_ns);

/* Cycle counts for the benchmarks; not ordered with anything around it. */
static inline uint64_t rdtsc(void)
{
    uint32_t lo, hi;

    asm volatile ( "rdtsc" : "=a" (lo), "=d" (hi) );
    return ((uint64_t)hi << 32) | lo;
}

/*
 * rdtsc does not wait for earlier loads: lfence makes it read the counter
 * only after them (Intel, and AMD with lfence dispatch-serialising, which
 * Xen sets up where it can).
 */
static inline uint64_t rdtsc_ordered(void)
{
    uint32_t lo, hi;

    asm volatile ( "lfence; rdtsc" : "=a" (lo), "=d" (hi) :: "memory" );
    return ((uint64_t)hi << 32) | lo;
}

#endif /* PVMM_TIME_H */
