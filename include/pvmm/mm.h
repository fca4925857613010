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

/*
 * Suspend and resume (mm/mm_suspend.c, docs/suspend.md).
 *
 * mm_suspend_prepare() pins every tree that is not pinned (the tools
 * rewrite mfns only inside pinned tables) and checks that PMAP maps only
 * the domain's own frames; 0, or an error after undoing what it did.
 * mm_suspend_enter() then turns every machine frame mm caches into a pfn:
 * it is the last step before the suspend hypercall, and from it until
 * mm_resume() nothing may touch the p2m or the pagetables.
 *
 * mm_resume() re-derives each cached frame from the p2m the tools wrote
 * (a new domain) or kept (a cancelled suspend), publishes the p2m again,
 * and unpins what mm_suspend_prepare() pinned.  It panics if a cached
 * page has no frame: the kernel cannot run on a tree it cannot find.
 */
struct mm_resume_stats {
    unsigned long rederived;        /* cached machine frames re-derived */
    unsigned int pinned;            /* trees pinned for the suspend */
    uint64_t hypercalls, mmu_ops;   /* what mm_resume() issued */
    uint64_t cycles;                /* mm_resume() itself */
};

#define MM_SUSPEND_MAX_TREES 32

int mm_suspend_prepare(void);
void mm_suspend_abort(void);        /* a prepare not followed by a suspend */
void mm_suspend_enter(void);
void mm_resume(struct mm_resume_stats *st);

#endif /* PVMM_MM_H */
