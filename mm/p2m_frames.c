/*
 * The p2m frame list that the toolstack reads (save/restore, dump-core):
 *
 *   shared_info->arch.pfn_to_mfn_frame_list_list = mfn of `top`
 *   top[512]    mfns of mid pages, one per 2^18 pfns (1 GiB)
 *   mid[512]    mfns of the leaves of the linear p2m, one per chunk
 *   mid_missing one shared mid whose entries are all p2m_missing's mfn
 *
 * The leaves are the linear p2m's own pages, so the tools read exactly
 * what pfn_to_mfn() reads.  Three levels reach 2^27 pfns (512 GiB); a
 * larger p2m publishes ~0 here, as the interface says, and tools use the
 * linear list at p2m_vaddr in the address space p2m_cr3 names.
 *
 * Invariant (checked by p2m_audit): mid[c] is the mfn mapped behind the
 * linear array's chunk c, for every chunk below min(max_pfn, 2^27).
 */
#include "p2m_internal.h"
#include <pvmm/frame.h>
#include <pvmm/directmap.h>
#include <pvmm/shared_info.h>
#include <pvmm/pt.h>

#define MIDS            512UL
#define CHUNKS_PER_MID  512UL

static unsigned long *top;
static mfn_t top_mfn, mid_missing;
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

/* A private mid whose leaves are all p2m_missing is mid_missing again. */
static void collapse_mid(unsigned long g)
{
    mfn_t mid = _mfn(top[g]);
    const unsigned long *p = page_of(mid);
    unsigned int i;

    for ( i = 0; i < CHUNKS_PER_MID; i++ )
        if ( p[i] != mfn_x(p2m_shared.missing_mfn) )
            return;
    top[g] = mfn_x(mid_missing);
    nr_private_mids--;
    frame_free(mfn_to_pfn(mid));
}

int p2m_frames_prepare(unsigned long chunk)
{
    unsigned long g = chunk / CHUNKS_PER_MID;
    mfn_t mid;

    if ( !top || g >= MIDS || !mfn_eq(_mfn(top[g]), mid_missing) )
        return 0;                   /* beyond reach, or a mid exists */
    if ( !new_page(&mid, mfn_x(p2m_shared.missing_mfn)) )
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
    if ( mfn_eq(leaf, p2m_shared.missing_mfn) &&
         mfn_eq(_mfn(top[g]), mid_missing) )
        return 0;                   /* mid_missing says so already */
    if ( (rc = p2m_frames_prepare(chunk)) != 0 )
        return rc;
    page_of(_mfn(top[g]))[chunk % CHUNKS_PER_MID] = mfn_x(leaf);
    if ( mfn_eq(leaf, p2m_shared.missing_mfn) )
        collapse_mid(g);
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

mfn_t p2m_frames_mid_missing(void)
{
    return mid_missing;
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
    return top ? 2 + nr_private_mids : 0;   /* top, mid_missing, mids */
}

int p2m_frames_init(int linear)
{
    struct arch_shared_info *a = &xen_shared_info->arch;
    unsigned long c, chunks = MIN(p2m_size, P2M_FRAME_LIST_PFNS) /
                              P2M_PER_PAGE;
    mfn_t leaf;
    int rc;

    if ( !new_page(&mid_missing, mfn_x(p2m_shared.missing_mfn)) ||
         !(top = new_page(&top_mfn, mfn_x(mid_missing))) )
        return -XEN_ENOMEM;
    for ( c = 0; c < chunks; c++ )
    {
        leaf = p2m_chunk_leaf(c);
        if ( !mfn_eq(leaf, p2m_shared.missing_mfn) &&
             (rc = p2m_frames_set_leaf(c, leaf)) != 0 )
            return rc;
    }
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
