/*
 * Building the direct map (mm/directmap.c, layer 4 of mm): every pfn <
 * nr_pages at DIRECTMAP_BASE + pfn * PAGE_SIZE, 4 KiB pages, pagetable
 * frames mapped read-only, everything non-executable.
 *
 * Using it is not here: directmap_va() is in layout.h and
 * directmap_covers() in frame_map.h (layer 2), which directmap_init()
 * tells how far the map reaches.
 */
#ifndef PVMM_DIRECTMAP_H
#define PVMM_DIRECTMAP_H

#include <pvmm/types.h>

struct directmap_info {
    unsigned long nr_pfns;      /* 0 until built */
    pfn_t pt_first;             /* its pagetables: L3, then L2s, then L1s */
    unsigned long nr_l2, nr_l1;
};

extern struct directmap_info directmap;

/* Builds it, then fmap_set_directmap_end(); 0 or -XEN_E*. */
int directmap_init(void);

#endif /* PVMM_DIRECTMAP_H */
