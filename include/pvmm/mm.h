/*
 * Memory management bring-up (mm/mm.c), in the order of docs/design.md,
 * "mm bring-up".
 */
#ifndef PVMM_MM_H
#define PVMM_MM_H

#include <pvmm/types.h>
#include <pvmm/xen.h>
#include <pvmm/multicall.h>

/* One step of bringing mm up: what it cost. */
struct mm_step_cost {
    uint64_t cycles;            /* rdtsc */
    struct mc_stats mc;         /* hypercalls, entries, mmu ops, flushes */
};

/* What bringing mm up cost, for the verbose boot, tests and benchmarks. */
struct mm_boot_stats {
    struct mm_step_cost tree;       /* the boot p2m tree */
    struct mm_step_cost directmap;
    struct mm_step_cost revector;   /* the linear p2m */
    struct mm_step_cost frame_list;
    unsigned long directmap_pages;  /* its L3 + L2 + L1 pages */
};

extern struct mm_boot_stats mm_boot_stats;

struct boot_options;

/* Panics if any step fails: nothing can run on a half-built tree. */
/*
 * Not const: the revector points si->mfn_list at the linear p2m, where
 * the tools look for it.
 */
void mm_init(start_info_t *si, const struct boot_options *opts);

#endif /* PVMM_MM_H */
