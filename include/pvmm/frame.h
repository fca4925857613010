/*
 * The pseudo-physical frame allocator (mm/frame.c), layer 2 of mm.
 *
 * Two phases.  Early, a bump pointer hands out frames in pfn order from
 * the end of the builder's area, skipping pfns reserved by the builder
 * (a domU's console and xenstore pages), up to a limit mm_init sets
 * before the first pfn with no frame.  Once the direct map exists,
 * frame_full_init() switches to a bitmap over every pfn < frame_total(),
 * empty until mm_init frees into it every populated run the bump pointer
 * never reached (frame_free_range).  The allocator never asks the p2m or
 * the direct map anything: it is told.
 *
 * Failure returns INVALID_PFN; the allocator never panics on exhaustion.
 */
#ifndef PVMM_FRAME_H
#define PVMM_FRAME_H

#include <pvmm/types.h>

/* The bump phase hands out [first_free, nr_pages), all with a frame. */
void frame_early_init(pfn_t first_free, unsigned long nr_pages);

/* Grows the range to total pfns (frames moved above nr_pages). */
void frame_set_total(unsigned long total);

/* The bump phase hands out nothing at or above end (a pfn with no frame). */
void frame_early_limit(pfn_t end);

/* The next pfn the bump phase would hand out: those below it are in use. */
pfn_t frame_early_next(void);

/* Keeps pfn out of both phases (only before the bump pointer reaches it). */
void frame_reserve(pfn_t pfn);

pfn_t frame_alloc(void);

/* Early phase only: count frames in a row; INVALID_PFN if they don't fit. */
pfn_t frame_alloc_contiguous(unsigned long count);

/* Full phase only.  Freeing a frame that is already free panics. */
void frame_free(pfn_t pfn);

/* Pages the full phase's bitmap needs (for frame_total() pfns). */
unsigned long frame_bitmap_pages(void);

/*
 * Switches to the full phase with bitmap (frame_bitmap_pages() pages,
 * mapped), every frame in use until freed with frame_free_range().
 */
void frame_full_init(void *bitmap);

/*
 * Full phase: frees every pfn in [first, end) but the reserved ones.  The
 * caller passes only pfns that have a frame and are not in use; one that
 * is free already panics.
 */
void frame_free_range(pfn_t first, pfn_t end);

unsigned long frame_free_count(void);

/* Is pfn in the full allocator's free set?  (The auditor asks.) */
bool frame_is_free(pfn_t pfn);
/* Takes that very frame if it is free; false if it is not. */
bool frame_claim(pfn_t pfn);
unsigned long frame_total(void);

#endif /* PVMM_FRAME_H */
