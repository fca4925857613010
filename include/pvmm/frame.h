/*
 * The pseudo-physical frame allocator (mm/frame.c).
 *
 * Two phases.  Early, a bump pointer hands out frames in pfn order from
 * the end of the builder's area, skipping pfns reserved by the builder
 * (a domU's console and xenstore pages).  Once the direct map exists,
 * frame_full_init() switches to a bitmap over every pfn < nr_pages, in
 * which all frames the bump pointer never reached are free.
 *
 * Failure returns INVALID_PFN; the allocator never panics on exhaustion.
 */
#ifndef PVMM_FRAME_H
#define PVMM_FRAME_H

#include <pvmm/types.h>
#include <pvmm/xen.h>

void frame_early_init(pfn_t first_free, unsigned long nr_pages);

/* Grows the range to total pfns (frames moved above nr_pages). */
void frame_set_total(unsigned long total);

/* Keeps pfn out of both phases (only before the bump pointer reaches it). */
void frame_reserve(pfn_t pfn);

pfn_t frame_alloc(void);

/* Early phase only: count frames in a row; INVALID_PFN if they don't fit. */
pfn_t frame_alloc_contiguous(unsigned long count);

/* Full phase only.  Freeing a frame that is already free panics. */
void frame_free(pfn_t pfn);

/*
 * Builds the bitmap (needs the direct map); 0 or -XEN_ENOMEM.  Free: every
 * populated pfn the bump pointer did not reach, and those below low_end
 * (the unused pages the builder mapped before the image).
 */
int frame_full_init(pfn_t low_end);

unsigned long frame_free_count(void);

/* Is pfn in the full allocator's free set?  (The auditor asks.) */
bool frame_is_free(pfn_t pfn);
/* Takes that very frame if it is free; false if it is not. */
bool frame_claim(pfn_t pfn);
unsigned long frame_total(void);

#endif /* PVMM_FRAME_H */
