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

/* The tree's reach: 512 mids of 512 leaves of 512 pfns. */
#define NR_MIDS     P2M_PER_PAGE

static unsigned long *top;
static mfn_t top_mfn, mid_missing, mid_identity;
static unsigned long nr_private_mids;
static bool linear_published;

static unsigned long *new_page(mfn_t *mfn, unsigned long fill)
{
    unsigned long *p;

    *mfn = p2m_be_page_alloc(&p);
    if ( mfn_eq(*mfn, INVALID_MFN) )
        return NULL;
    p2m_page_fill(p, fill);
    return p;
}

/* The leaf a shared mid stands for, or INVALID_MFN for a private mid. */
static mfn_t shared_mid_leaf(mfn_t mid)
{
    if ( mfn_eq(mid, mid_missing) )
        return p2m_shared.missing;
    if ( mfn_eq(mid, mid_identity) )
        return p2m_shared.identity;
    return INVALID_MFN;
}

int p2m_frames_prepare(unsigned long chunk)
{
    unsigned long g = chunk / CHUNKS_PER_GIG;
    mfn_t mid, fill;

    if ( !top || g >= NR_MIDS )
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
    unsigned long g = chunk / CHUNKS_PER_GIG;
    int rc;

    if ( !top || g >= NR_MIDS )
        return 0;                   /* beyond the tree's reach */
    if ( mfn_eq(leaf, shared_mid_leaf(_mfn(top[g]))) )
        return 0;                   /* the shared mid says so already */
    if ( (rc = p2m_frames_prepare(chunk)) != 0 )
        return rc;
    p2m_be_page_va(_mfn(top[g]))[chunk % CHUNKS_PER_GIG] = mfn_x(leaf);
    return 0;
}

mfn_t p2m_frames_mid(unsigned long gig)
{
    return top && gig < NR_MIDS ? _mfn(top[gig]) : INVALID_MFN;
}

mfn_t p2m_frames_top(void)
{
    return top_mfn;
}

mfn_t p2m_frames_shared_mid(enum p2m_kind k)
{
    return k == KIND_IDENTITY ? mid_identity : mid_missing;
}

mfn_t p2m_frames_leaf(unsigned long chunk)
{
    unsigned long g = chunk / CHUNKS_PER_GIG;

    if ( !top || g >= NR_MIDS )
        return INVALID_MFN;
    return _mfn(p2m_be_page_va(_mfn(top[g]))[chunk % CHUNKS_PER_GIG]);
}

void p2m_frames_set_size(unsigned long size)
{
    p2m_be_publish_size(size, size > P2M_FRAME_LIST_PFNS ? INVALID_MFN
                                                         : top_mfn);
}

unsigned long p2m_frames_pages(void)
{
    return top ? 3 + nr_private_mids : 0;   /* top, 2 shared mids, mids */
}

/* The frame list mirrors the structure: each walked piece, its entries. */
static void init_chunk(struct p2m_walker *w, unsigned long chunk, mfn_t leaf,
                       bool writable)
{
    int *rc = w->ctx;

    (void)writable;
    if ( !*rc )
        *rc = p2m_frames_set_leaf(chunk, leaf);
    w->stop = *rc != 0;
}

static void init_shared_gig(struct p2m_walker *w, unsigned long g, mfn_t l1)
{
    (void)w;
    if ( g < NR_MIDS )
        top[g] = mfn_x(p2m_frames_shared_mid(p2m_l1_kind_of(l1)));
}

static void init_shared_l2(struct p2m_walker *w, unsigned long h, mfn_t l2)
{
    unsigned long g;

    for ( g = 0; h == 0 && g < NR_MIDS; g++ )
        init_shared_gig(w, g, p2m_shared_l1(p2m_l2_kind_of(l2)));
}

int p2m_frames_init(bool linear)
{
    int rc = 0;
    struct p2m_walker w = { .chunk = init_chunk,
                            .shared_gig = init_shared_gig,
                            .shared_l2 = init_shared_l2, .ctx = &rc };

    if ( !new_page(&mid_missing, mfn_x(p2m_shared.missing)) ||
         !new_page(&mid_identity, mfn_x(p2m_shared.identity)) ||
         !(top = new_page(&top_mfn, mfn_x(mid_missing))) )
        return -XEN_ENOMEM;
    /* Only the first 512 GiB: the callbacks ignore what is past it. */
    p2m_walk_first(&w, 1);
    if ( rc )
        return rc;
    linear_published = linear;
    p2m_be_publish_linear(linear);
    wmb();
    p2m_frames_set_size(p2m_size);
    return 0;
}

bool p2m_frames_linear_published(void)
{
    return linear_published;
}

/*
 * Suspend: the frame list's own pages (top, shared mids, and every mid
 * the top names) as keys.  The top page is rewritten in place: the tools
 * save it as it is, and no one reads it until p2m_frames_resume().
 */
void p2m_frames_suspend(void)
{
    unsigned int g;

    if ( !top )
        return;
    for ( g = 0; g < NR_MIDS; g++ )
        top[g] = p2m_be_page_key(_mfn(top[g]));
    top_mfn = _mfn(p2m_be_page_key(top_mfn));
    mid_missing = _mfn(p2m_be_page_key(mid_missing));
    mid_identity = _mfn(p2m_be_page_key(mid_identity));
}

/* One key back to its new frame; counts it, or says which was lost. */
static mfn_t rederive(unsigned long key, const char *what,
                      unsigned long *count, int *rc)
{
    mfn_t m = p2m_be_key_page(key);

    if ( mfn_eq(m, INVALID_MFN) && !*rc )
    {
        p2m_be_log("p2m: resume: %s (key %#lx) has no frame\n", what, key);
        *rc = -XEN_ENOENT;
    }
    (*count)++;
    return m;
}

/* A private mid's entries: the leaves the hardware now walks. */
static void refill_mid(unsigned int g)
{
    unsigned long *mid = p2m_be_page_va(_mfn(top[g]));
    unsigned long c;

    for ( c = 0; c < CHUNKS_PER_GIG; c++ )
        mid[c] = mfn_x(p2m_chunk_leaf(g * CHUNKS_PER_GIG + c));
}

/*
 * Resume: the pages back to frames, then every entry they hold rewritten:
 * they name leaves and mids by machine frame, and all of those moved.
 * The shared pages must be re-derived already (p2m_core_resume()).
 */
int p2m_frames_resume(unsigned long *rederived)
{
    unsigned long entries = 0;  /* the mids are counted once, below */
    unsigned int g;
    int rc = 0;

    if ( !top )
        return 0;
    top_mfn = rederive(mfn_x(top_mfn), "frame list top", rederived, &rc);
    mid_missing = rederive(mfn_x(mid_missing), "mid_missing", rederived,
                           &rc);
    mid_identity = rederive(mfn_x(mid_identity), "mid_identity", rederived,
                            &rc);
    for ( g = 0; g < NR_MIDS; g++ )
        top[g] = mfn_x(rederive(top[g], "frame list mid", &entries, &rc));
    *rederived += nr_private_mids;
    if ( rc )
        return rc;
    p2m_page_fill(p2m_be_page_va(mid_missing), mfn_x(p2m_shared.missing));
    p2m_page_fill(p2m_be_page_va(mid_identity),
                  mfn_x(p2m_shared.identity));
    for ( g = 0; g < NR_MIDS; g++ )
        if ( mfn_eq(shared_mid_leaf(_mfn(top[g])), INVALID_MFN) )
            refill_mid(g);
    return 0;
}
