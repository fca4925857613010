/*
 * Reaching a frame (mm/frame_map.c): the one place that knows which
 * mappings of pseudo-physical memory exist and how far each reaches.
 *
 *   the direct map     pfn at DIRECTMAP_BASE + pfn * PAGE_SIZE, for
 *                      pfn < fmap_directmap_end (0 until it is built)
 *   the builder's area pfn at VIRT_BASE + pfn * PAGE_SIZE, for
 *                      pfn < fmap_boot_end (the image, its structures
 *                      and the slack it mapped)
 *   a PMAP slot        any other frame, by machine frame number
 *
 * fmap_map() takes the cheapest that exists.  Layer 2 of mm (mm/LAYERS):
 * it sits on PMAP and the address arithmetic of layout.h; the builders
 * that make these mappings (mm/bootmap.c, mm/directmap.c, layer 4) tell
 * it their extents through fmap_set_*(), so nothing below them includes
 * their headers.  Any vCPU: the extents are set once at boot, and PMAP
 * has its own lock.
 */
#ifndef PVMM_FRAME_MAP_H
#define PVMM_FRAME_MAP_H

#include <pvmm/types.h>
#include <pvmm/layout.h>

/*
 * Written only by fmap_set_boot_end() and fmap_set_directmap_end().  The
 * two predicates below keep the names they had in directmap.h and
 * bootmap.h: they are used all over mm/ and the tests.
 */
extern unsigned long fmap_boot_end, fmap_directmap_end;

/* The builder's area maps pfns [0, end); it grows while it is measured. */
void fmap_set_boot_end(pfn_t end);
/* The direct map maps pfns [0, nr_pfns); once, when it is built. */
void fmap_set_directmap_end(unsigned long nr_pfns);

static inline bool directmap_covers(pfn_t pfn)
{
    return pfn_x(pfn) < fmap_directmap_end;
}

static inline bool bootmap_covers(pfn_t pfn)
{
    return pfn_x(pfn) < fmap_boot_end;
}

/*
 * A virtual address of frame pfn, whose machine frame is mfn: its direct
 * map address if that covers it, else its builder's alias, else a PMAP
 * slot mapping mfn, writable or not as asked (a frame of a pinned tree
 * must not be: Xen refuses it).  The two standing mappings have whatever
 * permission the frame's role gave them; writable does not change them.
 * Every call is paired with fmap_unmap(); only a PMAP slot costs
 * hypercalls (one to map, one to unmap).  A PMAP panic names the caller.
 */
#define fmap_map(pfn, mfn, writable) \
    fmap_map_for(pfn, mfn, writable, __func__)
void *fmap_map_for(pfn_t pfn, mfn_t mfn, bool writable, const char *holder);
void fmap_unmap(const void *va);

#endif /* PVMM_FRAME_MAP_H */
