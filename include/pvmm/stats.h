/* Summaries of repeated measurements (lib/stats.c): pure, host-tested. */
#ifndef PVMM_STATS_H
#define PVMM_STATS_H

#include <pvmm/types.h>

struct summary {
    uint64_t median, min, max;
};

/* Summarises v[0..n) (n >= 1); sorts v in place. */
struct summary summarise(uint64_t *v, unsigned int n);

#endif /* PVMM_STATS_H */
