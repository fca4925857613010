/*
 * Memory management bring-up (mm/mm.c), in the order of DESIGN section 1.
 */
#ifndef PVMM_MM_H
#define PVMM_MM_H

#include <pvmm/types.h>
#include <pvmm/xen.h>
#include <pvmm/multicall.h>

/* What bringing mm up cost, for the verbose boot and the tests. */
struct mm_boot_stats {
    struct mc_stats directmap;  /* hypercalls etc. spent on the direct map */
    unsigned long directmap_pages;  /* its L3 + L2 + L1 pages */
    struct mc_stats revector;   /* ... on the linear p2m and frame list */
};

extern struct mm_boot_stats mm_boot_stats;

struct boot_options;

/* Panics if any step fails: nothing can run on a half-built tree. */
void mm_init(const start_info_t *si, const struct boot_options *opts);

#endif /* PVMM_MM_H */
