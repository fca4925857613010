/*
 * The p2m frame list that the toolstack reads (save/restore, dump-core):
 *
 *   shared_info->arch.pfn_to_mfn_frame_list_list = mfn of `top`
 *   top[512]     mfns of mid pages, one per 2^18 pfns (1 GiB)
 *   mid[512]     mfns of the leaves of the linear p2m, one per chunk
 *   mid_missing  one shared mid whose entries are all p2m_missing's mfn
 *   mid_identity one shared mid whose entries are all p2m_identity's mfn
 *
 * The leaves are the linear p2m's own pages, so the tools read exactly
 * what pfn_to_mfn() reads.  Three levels reach 2^27 pfns (512 GiB); a
 * larger p2m publishes ~0 here, as the interface says, and tools use the
 * linear list at p2m_vaddr in the address space p2m_cr3 names.
 *
 * Invariant (checked by p2m_audit): mid[c] is the mfn mapped behind the
 * linear array's chunk c, for every chunk below 2^27, inside max_pfn and
 * past it (so growing max_pfn needs no update here).
 *
 * A private mid is never freed, as in Linux: the tools may be reading it
 * (dump-core of a running guest pauses it only while it copies), and a
 * freed page would be reused for anything.  A GiB once given one keeps
 * it, so there are at most 512, 2 MiB.
 */
#include "p2m_internal.h"
#include <pvmm/frame.h>
#include <pvmm/directmap.h>
#include <pvmm/shared_info.h>
#include <pvmm/pt.h>

#define MIDS            512UL
#define CHUNKS_PER_MID  512UL

static unsigned long *top;
static mfn_t top_mfn, mid_missing, mid_identity;
static unsigned long nr_private_mids;

static unsigned long *page_of(mfn_t mfn)
{
    return directmap_va(mfn_to_pfn(mfn));
}

static unsigned long *new_page(mfn_t *mfn, unsigned long fill)
{
    pfn_t pfn = frame_alloc();
    unsigned long *p;
    unsigned int i;

    if ( pfn_eq(pfn, INVALID_PFN) )
        return NULL;
    p = directmap_va(pfn);
    for ( i = 0; i < 512; i++ )
        p[i] = fill;
    *mfn = pfn_to_mfn(pfn);
    return p;
}

/* The leaf a shared mid stands for, or INVALID_MFN for a private mid. */
static mfn_t shared_mid_leaf(mfn_t mid)
{
    if ( mfn_eq(mid, mid_missing) )
        return p2m_shared.missing_mfn;
    if ( mfn_eq(mid, mid_identity) )
        return p2m_shared.identity_mfn;
    return INVALID_MFN;
}

int p2m_frames_prepare(unsigned long chunk)
{
    unsigned long g = chunk / CHUNKS_PER_MID;
    mfn_t mid, fill;

    if ( !top || g >= MIDS )
        return 0;                   /* beyond the tree's reach */
    fill = shared_mid_leaf(_mfn(top[g]));
    if ( mfn_eq(fill, INVALID_MFN) )
        return 0;                   /* a private mid exists */
    if ( !new_page(&mid, mfn_x(fill)) )
        return -XEN_ENOMEM;
    nr_private_mids++;
    top[g] = mfn_x(mid);
    return 0;
}

int p2m_frames_set_leaf(unsigned long chunk, mfn_t leaf)
{
    unsigned long g = chunk / CHUNKS_PER_MID;
    int rc;

    if ( !top || g >= MIDS )
        return 0;                   /* beyond the tree's reach */
    if ( mfn_eq(leaf, shared_mid_leaf(_mfn(top[g]))) )
        return 0;                   /* the shared mid says so already */
    if ( (rc = p2m_frames_prepare(chunk)) != 0 )
        return rc;
    page_of(_mfn(top[g]))[chunk % CHUNKS_PER_MID] = mfn_x(leaf);
    return 0;
}

mfn_t p2m_frames_mid(unsigned long gig)
{
    return top && gig < MIDS ? _mfn(top[gig]) : INVALID_MFN;
}

mfn_t p2m_frames_top(void)
{
    return top_mfn;
}

mfn_t p2m_frames_shared_mid(bool identity)
{
    return identity ? mid_identity : mid_missing;
}

mfn_t p2m_frames_leaf(unsigned long chunk)
{
    if ( !top || chunk >= MIDS * CHUNKS_PER_MID )
        return INVALID_MFN;
    return _mfn(page_of(_mfn(top[chunk / CHUNKS_PER_MID]))
                [chunk % CHUNKS_PER_MID]);
}

void p2m_frames_set_size(unsigned long size)
{
    struct arch_shared_info *a = &xen_shared_info->arch;

    a->max_pfn = size;
    a->pfn_to_mfn_frame_list_list = size > P2M_FRAME_LIST_PFNS ? ~0UL
                                                               : mfn_x(top_mfn);
}

unsigned long p2m_frames_pages(void)
{
    return top ? 3 + nr_private_mids : 0;   /* top, 2 shared mids, mids */
}

/* The frame list mirrors the structure: each walked piece, its entries. */
static void init_chunk(struct p2m_walker *w, unsigned long chunk, pte_t pte)
{
    int *rc = w->ctx;

    if ( !*rc )
        *rc = p2m_frames_set_leaf(chunk, pte_mfn(pte));
    w->stop = *rc != 0;
}

static void init_shared_gig(struct p2m_walker *w, unsigned long gig, mfn_t l1)
{
    (void)w;
    if ( gig < MIDS )
        top[gig] = mfn_x(mfn_eq(l1, p2m_shared.identity_pte) ? mid_identity
                                                            : mid_missing);
}

static void init_shared_l2(struct p2m_walker *w, unsigned long h, mfn_t l2)
{
    unsigned long g;

    for ( g = 0; h == 0 && g < MIDS; g++ )
        init_shared_gig(w, g, mfn_eq(l2, p2m_shared.identity_pmd)
                              ? p2m_shared.identity_pte
                              : p2m_shared.missing_pte);
}

int p2m_frames_init(int linear)
{
    struct arch_shared_info *a = &xen_shared_info->arch;
    int rc = 0;
    struct p2m_walker w = { .chunk = init_chunk,
                            .shared_gig = init_shared_gig,
                            .shared_l2 = init_shared_l2, .ctx = &rc };

    if ( !new_page(&mid_missing, mfn_x(p2m_shared.missing_mfn)) ||
         !new_page(&mid_identity, mfn_x(p2m_shared.identity_mfn)) ||
         !(top = new_page(&top_mfn, mfn_x(mid_missing))) )
        return -XEN_ENOMEM;
    /* Only the first 512 GiB: the callbacks ignore what is past it. */
    p2m_walk_first(&w, 1);
    if ( rc )
        return rc;
    /*
     * The linear list only for tools that say they read it (as Linux
     * does): with p2m_cr3 set, Xen 4.17's save and dump-core walk our
     * pagetables to P2M_BASE instead of reading the frame list.
     */
    a->p2m_vaddr = P2M_BASE;
    if ( linear < 0 )
        linear = !!(p2m_start_info->flags & SIF_VIRT_P2M_4TOOLS);
    if ( linear )
        a->p2m_cr3 = xen_pfn_to_cr3(mfn_x(pt_kernel_root()));
    wmb();
    p2m_frames_set_size(p2m_size);
    return 0;
}
