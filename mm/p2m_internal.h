/*
 * State shared by the p2m's files (mm/p2m*.c); not for other modules.
 */
#ifndef PVMM_P2M_INTERNAL_H
#define PVMM_P2M_INTERNAL_H

#include <pvmm/p2m.h>
#include <pvmm/p2m_tree.h>
#include <pvmm/pte.h>

/* The shared pages of the linear p2m (DESIGN section 2). */
struct p2m_shared {
    pfn_t missing, identity;        /* leaves: 512 x INVALID each */
    mfn_t missing_mfn, identity_mfn;
    mfn_t missing_pte, identity_pte;    /* L1s: 512 x the leaf, read-only */
    mfn_t missing_pmd;              /* L2: 512 x missing_pte */
    mfn_t identity_pmd;             /* L2: 512 x identity_pte (dom0's MMIO) */
    mfn_t l3;                       /* the p2m's own L3, L4 slot 402 */
};

extern struct p2m_shared p2m_shared;
extern start_info_t *p2m_start_info;
extern unsigned long p2m_max_reservation;

/* What the M2P says of mfn; ~0 if the mfn is beyond it. */
unsigned long p2m_m2p_raw(mfn_t mfn);

/* Before revector: the entry from the tree and the E820 overlay. */
unsigned long p2m_boot_entry(unsigned long pfn);
void p2m_boot_release(void);
void p2m_boot_crosscheck(void);

/* mm/p2m_e820.c */
bool p2m_e820_is_identity(unsigned long pfn);
bool p2m_e820_move_source(unsigned long pfn, unsigned long *source);
unsigned long p2m_e820_ram_end(void);
unsigned long p2m_e820_moved_to(unsigned long pfn);
unsigned long p2m_e820_populated_end(void);

/* mm/p2m_linear.c */
mfn_t p2m_chunk_leaf(unsigned long chunk);

/*
 * What the structure holds where nothing private is: past p2m_size, and
 * where p2m_set() never wrote.  dom0: identity (its memory map calls
 * everything past the host's RAM MMIO); a domU: missing (room to balloon).
 */
bool p2m_unwritten_is_identity(void);

struct p2m_walker {
    /* Every chunk under a private L1, with the PTE that maps its leaf. */
    void (*chunk)(struct p2m_walker *w, unsigned long chunk, pte_t pte);
    /* Every 1 GiB group mapped by a shared L1 (optional). */
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
void p2m_generation_begin(void);
void p2m_generation_end(void);

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
mfn_t p2m_frames_leaf(unsigned long chunk);
mfn_t p2m_frames_mid(unsigned long gig);
/* mid_identity, or mid_missing: the shared mids. */
mfn_t p2m_frames_shared_mid(bool identity);
mfn_t p2m_frames_top(void);
unsigned long p2m_frames_pages(void);

#endif /* PVMM_P2M_INTERNAL_H */
