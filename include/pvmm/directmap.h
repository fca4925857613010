/*
 * The direct map (mm/directmap.c): every pfn < nr_pages at
 * DIRECTMAP_BASE + pfn * PAGE_SIZE, 4 KiB pages, pagetable frames mapped
 * read-only, everything non-executable.
 */
#ifndef PVMM_DIRECTMAP_H
#define PVMM_DIRECTMAP_H

#include <pvmm/types.h>
#include <pvmm/layout.h>

struct directmap_info {
    unsigned long nr_pfns;      /* 0 until built */
    pfn_t pt_first;             /* its pagetables: L3, then L2s, then L1s */
    unsigned long nr_l2, nr_l1;
};

extern struct directmap_info directmap;

int directmap_init(void);

static inline bool directmap_covers(pfn_t pfn)
{
    return pfn_x(pfn) < directmap.nr_pfns;
}

static inline void *directmap_va(pfn_t pfn)
{
    return (void *)(DIRECTMAP_BASE + (pfn_x(pfn) << PAGE_SHIFT));
}

#endif /* PVMM_DIRECTMAP_H */
