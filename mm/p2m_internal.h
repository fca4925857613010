/*
 * What the files of the portable p2m core share (mm/p2m_shape.c,
 * mm/p2m_revector.c, mm/p2m_set.c, mm/p2m_frames.c, mm/p2m_audit.c,
 * mm/p2m_map.c); nothing outside the core includes it.
 *
 * Positions in the structure are numbers, not addresses:
 *   chunk c  = pfn / 512          one leaf, one L1 entry
 *   gig g    = c / 512            one L1, one L2 entry (1 GiB of pfns)
 *   h        = g / 512            one L2, one L3 entry (512 GiB)
 */
#ifndef PVMM_P2M_INTERNAL_H
#define PVMM_P2M_INTERNAL_H

#include <pvmm/p2m_core.h>
#include "p2m_backend.h"

#define CHUNKS_PER_GIG      P2M_PER_PAGE
#define CHUNKS_PER_L2       (P2M_PER_PAGE * P2M_PER_PAGE)
#define CHUNK_OF(pfn)       ((pfn) / P2M_PER_PAGE)

/* What a piece of the structure holds. */
enum p2m_kind { KIND_MISSING, KIND_IDENTITY, KIND_REAL };

/* The shared pages (mm/p2m_shape.c); built once, never freed. */
extern struct p2m_shared_pages p2m_shared;

/* p2m_size when built: p2m_trim() never goes below it. */
extern unsigned long p2m_built_size;
/* struct p2m_build's nr_pages, for the map's caption. */
extern unsigned long p2m_boot_pages;

/* What is unwritten reads as (struct p2m_build). */
enum p2m_kind p2m_unwritten_kind(void);
void p2m_set_unwritten(bool identity);

/* The shared leaf, L1 and L2 of a kind (KIND_MISSING or KIND_IDENTITY). */
mfn_t p2m_shared_leaf(enum p2m_kind k);
mfn_t p2m_shared_l1(enum p2m_kind k);
mfn_t p2m_shared_l2(enum p2m_kind k);
/* The kind a shared page of that level stands for; KIND_REAL if private. */
enum p2m_kind p2m_leaf_kind_of(mfn_t leaf);
enum p2m_kind p2m_l1_kind_of(mfn_t l1);
enum p2m_kind p2m_l2_kind_of(mfn_t l2);

/* The entry a pfn holds in a page of kind k (not KIND_REAL). */
static inline unsigned long p2m_kind_entry(enum p2m_kind k, unsigned long pfn)
{
    return k == KIND_IDENTITY ? IDENTITY_FRAME(pfn) : INVALID_P2M_ENTRY;
}


/* Builds the shared pages (inside the caller's batch); 0 or -XEN_ENOMEM. */
int p2m_shared_build(void);

/* The tables above chunk c, as the hardware walks them. */
mfn_t p2m_l2_of(unsigned long c);
mfn_t p2m_l1_of(unsigned long c);

/* Lookups past p2m_size and in shared chunks (the slow path). */
unsigned long p2m_linear_resolve(unsigned long pfn);

/*
 * p2m_generation odd while the structure changes (docs/p2m.md); begin
 * also waits until no lock-free store is in flight.  Only with the p2m
 * lock held (or no other CPU running).
 */
void p2m_generation_begin(void);
void p2m_generation_end(void);

/*
 * Around a store made without the lock: begin is false (and counts
 * nothing) while the structure is changing; then take the lock.
 */
bool p2m_store_begin(void);
void p2m_store_end(void);

/*
 * Visits the structure below the L3, skipping what is shared: the
 * auditor and the statistics cost O(private pages), however sparse the
 * p2m (2^32 pfns populated terabytes apart is a handful of pages).
 */
struct p2m_walker {
    /* Every chunk under a private L1, with its leaf and its mapping. */
    void (*chunk)(struct p2m_walker *w, unsigned long chunk, mfn_t leaf,
                  bool writable);
    /* Every GiB mapped by a shared L1 (optional). */
    void (*shared_gig)(struct p2m_walker *w, unsigned long gig, mfn_t l1);
    /* Every 512 GiB mapped by a shared L2 (optional). */
    void (*shared_l2)(struct p2m_walker *w, unsigned long h, mfn_t l2);
    bool stop;                      /* set by a callback to end the walk */
    unsigned long private_l1, shared_l1_maps, private_l2, shared_l2_maps;
    void *ctx;
};
void p2m_walk(struct p2m_walker *w);
/* The same, over the first nr_l3 entries of the L3 only. */
void p2m_walk_first(struct p2m_walker *w, unsigned int nr_l3);

/* mm/p2m_frames.c */
/*
 * Makes sure the frame list has a private mid page for chunk, so that a
 * later p2m_frames_set_leaf() of a private leaf cannot fail.  -XEN_ENOMEM
 * before anything changed.
 */
int p2m_frames_prepare(unsigned long chunk);
/* Records chunk's leaf (allocating a private mid if the GiB has none). */
int p2m_frames_set_leaf(unsigned long chunk, mfn_t leaf);
void p2m_frames_set_size(unsigned long size);
mfn_t p2m_frames_mid(unsigned long gig);
/* mid_identity, or mid_missing: the shared mids. */
mfn_t p2m_frames_shared_mid(enum p2m_kind k);
mfn_t p2m_frames_top(void);
unsigned long p2m_frames_pages(void);
/* Did p2m_frames_init() publish the linear list (p2m_cr3)? */
bool p2m_frames_linear_published(void);
/* mm/p2m_suspend.c's halves for the frame list. */
void p2m_frames_suspend(void);
int p2m_frames_resume(unsigned long *rederived);

#endif /* PVMM_P2M_INTERNAL_H */
