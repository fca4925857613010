/*
 * The p2m, part 2: the linear, virtually mapped, sparse p2m.
 *
 *   P2M_BASE (L4 slot 402)
 *     L3 (private) --- 512 entries, each 2^27 pfns (512 GiB)
 *       |- private L2 ............. where some chunk below is real
 *       |- missing_pmd (shared) ... 512 x missing_pte
 *       '- identity_pmd (shared) .. 512 x identity_pte (dom0, past RAM)
 *     L2 entry: 2^18 pfns (1 GiB) = one L1 of 512 chunks
 *       |- private L1 ............. mixed or real chunks
 *       |- missing_pte (shared) ... 512 x p2m_missing, read-only
 *       '- identity_pte (shared) .. 512 x p2m_identity, read-only
 *     L1 entry: one 512-entry chunk (one 4 KiB leaf of the array)
 *       |- private leaf (RW) ...... real entries
 *       |- p2m_missing (RO) ....... all INVALID: missing pfns
 *       '- p2m_identity (RO) ...... all INVALID: identity pfns
 *
 * Invariants:
 *  - every L3 entry is present, so any pfn < P2M_MAX_PFNS reads without a
 *    fault, and growing the p2m is a new p2m_size, not new mappings;
 *  - nothing is ever written into a shared page: p2m_set() first gives
 *    the chunk a private leaf (and a private L1/L2 if those are shared);
 *  - a chunk backed by p2m_identity reads INVALID, and the slow path
 *    tells it from a missing one by that backing page;
 *  - what p2m_set() never wrote reads as the memory map says, inside
 *    p2m_size and past it: past the size the structure is identity for
 *    dom0 (everything past the host's RAM is MMIO) and missing for a domU
 *    (p2m_unwritten_is_identity), so growing p2m_size changes how no pfn
 *    reads but the one written;
 *  - shared_info's p2m_generation is odd while mappings change.
 *
 * A private leaf that returns to all-INVALID, or to all-identity, is
 * collapsed back onto p2m_missing or p2m_identity (and its L1 and L2 with
 * it when they hold nothing else of their own), so sparse
 * populate/release cycles leave no private pages behind.
 */
#include "p2m_internal.h"
#include <pvmm/pt.h>
#include <pvmm/frame.h>
#include <pvmm/multicall.h>
#include <pvmm/mmu_lazy.h>
#include <pvmm/directmap.h>
#include <pvmm/shared_info.h>
#include <pvmm/printk.h>
#include <pvmm/panic.h>
#include <pvmm/lib.h>

#define CHUNKS_PER_L1   512UL
#define CHUNKS_PER_L2   (512UL * 512)

struct p2m_shared p2m_shared;
unsigned long p2m_nr_populated;
static unsigned long boot_size;         /* p2m_size at revector: a floor */

enum kind { KIND_MISSING, KIND_IDENTITY, KIND_REAL };

static unsigned long chunk_va(unsigned long c)
{
    return P2M_BASE + c * PAGE_SIZE;
}

static unsigned long *linear = (unsigned long *)P2M_BASE;

bool p2m_unwritten_is_identity(void)
{
    return p2m_start_info->flags & SIF_INITDOMAIN;
}

/* What the structure holds past p2m_size. */
static enum kind unwritten_kind(void)
{
    return p2m_unwritten_is_identity() ? KIND_IDENTITY : KIND_MISSING;
}

/* What the boot view holds in chunk c, for a p2m of size pfns. */
static enum kind classify_chunk(unsigned long c, unsigned long size)
{
    unsigned long pfn = c * P2M_PER_PAGE, i, e, ident = 0, missing = 0;

    if ( pfn >= size )
        return unwritten_kind();
    for ( i = 0; i < P2M_PER_PAGE; i++ )
    {
        e = p2m_boot_entry(pfn + i);
        if ( e == INVALID_P2M_ENTRY )
            missing++;
        else if ( e & IDENTITY_FRAME_BIT )
            ident++;
        else
            return KIND_REAL;
    }
    return ident == P2M_PER_PAGE ? KIND_IDENTITY :
           missing == P2M_PER_PAGE ? KIND_MISSING : KIND_REAL;
}

/* One kind for n chunks from c0, or KIND_REAL if they differ. */
static enum kind classify_range(unsigned long c0, unsigned long n,
                                unsigned long size)
{
    unsigned long c, end = MIN(c0 + n, (size + P2M_PER_PAGE - 1) /
                                        P2M_PER_PAGE);
    enum kind first = unwritten_kind(), k;

    for ( c = c0; c < end; c++ )
    {
        k = classify_chunk(c, size);
        if ( k == KIND_REAL || (c > c0 && k != first) )
            return KIND_REAL;
        first = k;
    }
    /* Chunks past size hold what is unwritten. */
    return (end < c0 + n && first != unwritten_kind()) ? KIND_REAL : first;
}

static void fill_page(mfn_t mfn, unsigned long val)
{
    unsigned long *t = pt_map(mfn);
    unsigned int i;

    for ( i = 0; i < PT_ENTRIES; i++ )
        t[i] = val;
    pt_unmap(t);
}

static pte_t leaf_pte(mfn_t leaf, bool writable)
{
    return pte_from_mfn(leaf, (writable ? PTE_KERNEL_RW : PTE_KERNEL_RO) |
                              pte_nx);
}

static pte_t table_pte(mfn_t table)
{
    return pte_from_mfn(table, PT_TABLE_FLAGS);
}

static pte_t shared_leaf_pte(enum kind k)
{
    return leaf_pte(k == KIND_IDENTITY ? p2m_shared.identity_mfn
                                       : p2m_shared.missing_mfn, false);
}

/* A new leaf holding chunk c as the boot view has it. */
static mfn_t leaf_from_boot(unsigned long c)
{
    pfn_t pfn = frame_alloc();
    unsigned long *leaf, i;

    if ( pfn_eq(pfn, INVALID_PFN) )
        return INVALID_MFN;
    leaf = directmap_va(pfn);
    for ( i = 0; i < P2M_PER_PAGE; i++ )
        leaf[i] = p2m_boot_entry(c * P2M_PER_PAGE + i);
    return pfn_to_mfn(pfn);
}

/* Protects a finished table and records it as part of the kernel tree. */
static void seal_table(mfn_t table, unsigned int level)
{
    on_pt_alloc(mfn_to_pfn(table), level, true);
}

/* The L1 for the 512 chunks from c0 (one GiB of pfns). */
static mfn_t build_l1(unsigned long c0, unsigned long size)
{
    mfn_t l1 = pt_alloc(1), leaf;
    pte_t *t;
    unsigned long k;
    enum kind kind;

    if ( mfn_eq(l1, INVALID_MFN) )
        return l1;
    t = pt_map(l1);
    for ( k = 0; k < CHUNKS_PER_L1; k++ )
    {
        kind = classify_chunk(c0 + k, size);
        if ( kind != KIND_REAL )
        {
            t[k] = shared_leaf_pte(kind);
            continue;
        }
        leaf = leaf_from_boot(c0 + k);
        if ( mfn_eq(leaf, INVALID_MFN) )
        {
            pt_unmap(t);
            return leaf;        /* the caller panics: boot cannot go on */
        }
        t[k] = leaf_pte(leaf, true);
    }
    pt_unmap(t);
    seal_table(l1, 1);
    return l1;
}

/* The L2 for the 512 GiB of pfns from chunk c0. */
static mfn_t build_l2(unsigned long c0, unsigned long size)
{
    mfn_t l2 = pt_alloc(2), l1;
    unsigned long i;
    enum kind kind;
    pte_t e;

    if ( mfn_eq(l2, INVALID_MFN) )
        return l2;
    for ( i = 0; i < PT_ENTRIES; i++ )
    {
        kind = classify_range(c0 + i * CHUNKS_PER_L1, CHUNKS_PER_L1, size);
        if ( kind == KIND_MISSING )
            e = table_pte(p2m_shared.missing_pte);
        else if ( kind == KIND_IDENTITY )
            e = table_pte(p2m_shared.identity_pte);
        else
        {
            l1 = build_l1(c0 + i * CHUNKS_PER_L1, size);
            if ( mfn_eq(l1, INVALID_MFN) )
                return l1;
            e = table_pte(l1);
        }
        pt_set_entry(l2, i, e);     /* plain store: l2 is still private */
    }
    seal_table(l2, 2);
    return l2;
}

static mfn_t shared_leaf(pfn_t *pfn)
{
    *pfn = frame_alloc();
    if ( pfn_eq(*pfn, INVALID_PFN) )
        return INVALID_MFN;
    memset(directmap_va(*pfn), 0xff, PAGE_SIZE);        /* all INVALID */
    /* Read-only everywhere, like a table, though it is not one. */
    if ( pt_protect_aliases(*pfn, true) )
        return INVALID_MFN;
    pt_role_set(*pfn, PT_ROLE_RO);
    return pfn_to_mfn(*pfn);
}

static mfn_t shared_table(unsigned int level, pte_t every_entry)
{
    mfn_t t = pt_alloc(level);

    if ( mfn_eq(t, INVALID_MFN) )
        return t;
    fill_page(t, every_entry);
    seal_table(t, level);
    return t;
}

static int build_shared_pages(void)
{
    struct p2m_shared *s = &p2m_shared;

    s->missing_mfn = shared_leaf(&s->missing);
    s->identity_mfn = shared_leaf(&s->identity);
    if ( mfn_eq(s->missing_mfn, INVALID_MFN) ||
         mfn_eq(s->identity_mfn, INVALID_MFN) )
        return -XEN_ENOMEM;
    s->missing_pte = shared_table(1, leaf_pte(s->missing_mfn, false));
    s->identity_pte = shared_table(1, leaf_pte(s->identity_mfn, false));
    if ( mfn_eq(s->missing_pte, INVALID_MFN) ||
         mfn_eq(s->identity_pte, INVALID_MFN) )
        return -XEN_ENOMEM;
    s->missing_pmd = shared_table(2, table_pte(s->missing_pte));
    s->identity_pmd = shared_table(2, table_pte(s->identity_pte));
    return mfn_eq(s->missing_pmd, INVALID_MFN) ||
           mfn_eq(s->identity_pmd, INVALID_MFN) ? -XEN_ENOMEM : 0;
}

static pte_t shared_l2_pte(enum kind k)
{
    return table_pte(k == KIND_IDENTITY ? p2m_shared.identity_pmd
                                        : p2m_shared.missing_pmd);
}

/*
 * A maximum reservation of 2^32-1 pages is Xen saying "no limit" (dom0
 * gets it): it says nothing about how large the p2m should be.
 */
#define RESERVATION_UNLIMITED   0xffffffffUL

/* The p2m's size: DESIGN section 2, clamped to what the VA area holds. */
static unsigned long initial_size(void)
{
    const start_info_t *si = p2m_start_info;
    unsigned long size = MAX(si->nr_pages, pfn_x(p2m_populated_end()));

    if ( p2m_max_reservation < RESERVATION_UNLIMITED )
        size = MAX(size, p2m_max_reservation);
    /*
     * Every RAM pfn of the memory map: the host's as dom0; a domU's runs
     * to maxmem, above the maximum reservation (libxl sets that to the
     * target), as in Linux, so ballooning up to maxmem never grows it.
     */
    size = MAX(size, p2m_e820_ram_end());
    size = ROUNDUP(size, P2M_PER_PAGE);
    return MIN(size, P2M_MAX_PFNS);
}

int p2m_revector(void)
{
    unsigned long size = initial_size(), h;
    mfn_t l2;
    int rc;

    mmu_lazy_begin();
    rc = build_shared_pages();
    p2m_shared.l3 = rc ? INVALID_MFN : pt_alloc(3);
    if ( !rc && mfn_eq(p2m_shared.l3, INVALID_MFN) )
        rc = -XEN_ENOMEM;
    /* Every entry, past size too: what is unwritten reads right. */
    for ( h = 0; !rc && h < PT_ENTRIES; h++ )
    {
        enum kind k = classify_range(h * CHUNKS_PER_L2, CHUNKS_PER_L2, size);

        if ( k != KIND_REAL )
        {
            pt_set_entry(p2m_shared.l3, h, shared_l2_pte(k));
            continue;
        }
        l2 = build_l2(h * CHUNKS_PER_L2, size);
        if ( mfn_eq(l2, INVALID_MFN) )
            rc = -XEN_ENOMEM;
        else
            pt_set_entry(p2m_shared.l3, h, table_pte(l2));
    }
    if ( !rc )
    {
        seal_table(p2m_shared.l3, 3);
        rc = pt_set_entry(pt_kernel_root(), pt_index(P2M_BASE, 4),
                          table_pte(p2m_shared.l3));
    }
    h = mmu_lazy_end();
    if ( !rc )
        rc = (int)h;
    if ( rc )
        return rc;

    p2m_size = boot_size = size;
    /* Hole frames moved are still ours; those given back are not. */
    p2m_nr_populated = p2m_start_info->nr_pages - p2m_e820_released();
    p2m_boot_crosscheck();
    p2m_boot_release();                 /* reads the old mfn_list */
    p2m_start_info->mfn_list = P2M_BASE;
    return 0;
}

mfn_t p2m_chunk_leaf(unsigned long chunk)
{
    unsigned int index;
    mfn_t l1;

    if ( pt_walk(pt_kernel_root(), chunk_va(chunk), 1, &l1, &index) )
        return INVALID_MFN;
    return pte_mfn(pt_get_entry(l1, index));
}

void p2m_generation_begin(void)
{
    xen_shared_info->arch.p2m_generation++;
    wmb();
}

void p2m_generation_end(void)
{
    wmb();
    xen_shared_info->arch.p2m_generation++;
}

/*
 * Ends a lazy section and issues what it queued even when nested inside a
 * caller's: the p2m's next step reads or writes through what was queued.
 */
static int lazy_end_and_flush(void)
{
    int rc = mmu_lazy_end();

    return rc ? rc : mc_flush();
}

/* Pages a make_chunk_private() allocated, INVALID_MFN where none. */
struct fresh_pages {
    mfn_t l2, l1, leaf;
};

/* Replaces a shared table at entry i of parent by a private copy. */
static int privatise_table(mfn_t parent, unsigned int i, unsigned int level,
                           pte_t copy_of_entry, mfn_t *out, mfn_t *fresh)
{
    mfn_t t = pt_alloc(level);

    if ( mfn_eq(t, INVALID_MFN) )
        return -XEN_ENOMEM;
    fill_page(t, copy_of_entry);
    mc_request_tlb_flush();         /* a whole range changes translation */
    *out = *fresh = t;
    return pt_link(parent, i, t, level);
}

static int private_l2(unsigned long va, mfn_t *l2, mfn_t *fresh)
{
    unsigned int i = pt_index(va, 3);
    pte_t e = pt_get_entry(p2m_shared.l3, i);

    *l2 = pte_mfn(e);
    if ( mfn_eq(*l2, p2m_shared.missing_pmd) )
        return privatise_table(p2m_shared.l3, i, 2,
                               table_pte(p2m_shared.missing_pte), l2, fresh);
    if ( mfn_eq(*l2, p2m_shared.identity_pmd) )
        return privatise_table(p2m_shared.l3, i, 2,
                               table_pte(p2m_shared.identity_pte), l2, fresh);
    return 0;
}

static int private_l1(unsigned long va, mfn_t l2, mfn_t *l1, mfn_t *fresh)
{
    unsigned int i = pt_index(va, 2);
    mfn_t shared = pte_mfn(pt_get_entry(l2, i));
    enum kind k;

    *l1 = shared;
    if ( mfn_eq(shared, p2m_shared.missing_pte) )
        k = KIND_MISSING;
    else if ( mfn_eq(shared, p2m_shared.identity_pte) )
        k = KIND_IDENTITY;
    else
        return 0;
    return privatise_table(l2, i, 1, shared_leaf_pte(k), l1, fresh);
}

/* Gives chunk c a private leaf holding what its shared page meant. */
static int private_leaf(unsigned long c, mfn_t l1, bool identity,
                        mfn_t *fresh)
{
    struct mmuext_op flush = {
        .cmd = MMUEXT_INVLPG_LOCAL,
        .arg1.linear_addr = chunk_va(c),
    };
    pfn_t pfn = frame_alloc();
    unsigned long *leaf, k;
    int rc;

    if ( pfn_eq(pfn, INVALID_PFN) )
        return -XEN_ENOMEM;
    leaf = directmap_va(pfn);
    for ( k = 0; k < P2M_PER_PAGE; k++ )
        leaf[k] = identity ? IDENTITY_FRAME(c * P2M_PER_PAGE + k)
                           : INVALID_P2M_ENTRY;
    *fresh = pfn_to_mfn(pfn);
    rc = pt_set_entry(l1, pt_index(chunk_va(c), 1), leaf_pte(*fresh, true));
    return rc ? rc : mc_mmuext(&flush);
}

/* Does entry i of table point at child, as Xen has it now? */
static bool linked(mfn_t table, unsigned int i, mfn_t child)
{
    return mfn_eq(pte_mfn(pt_get_entry(table, i)), child);
}

/*
 * Collapse: a chunk whose private leaf is back to all-INVALID maps
 * p2m_missing again and the leaf is freed (all-identity: p2m_identity);
 * an L1 (then an L2) left with nothing but one shared page behind it goes
 * back to the shared table of that kind too.  Sparse populate/release
 * cycles therefore leave no private pages behind.
 *
 * Each step is issued and checked before the page it unlinks is freed: a
 * page is never freed while Xen may still map it.  A refused step leaves
 * a valid, only larger, structure; the chunk is remembered and
 * p2m_trim() tries again.
 */
#define MAX_PENDING_COLLAPSE    8

static unsigned long pending_collapse[MAX_PENDING_COLLAPSE];
static unsigned int nr_pending_collapse;

static void remember_collapse(unsigned long c)
{
    printk("p2m: chunk %#lx stays private for now: its collapse was "
           "refused\n", c);
    if ( nr_pending_collapse < MAX_PENDING_COLLAPSE )
        pending_collapse[nr_pending_collapse++] = c;
}

/* Points entry i of parent at a shared page; 0 once Xen has done it. */
static int unlink_child(mfn_t parent, unsigned int i, pte_t shared,
                        unsigned long flush_va)
{
    struct mmuext_op flush = {
        .cmd = MMUEXT_INVLPG_LOCAL, .arg1.linear_addr = flush_va,
    };
    int rc, flush_rc;

    mmu_lazy_begin();
    if ( flush_va )
        rc = mc_mmuext(&flush);
    else
    {
        mc_request_tlb_flush();     /* a whole range changes translation */
        rc = 0;
    }
    rc = rc ? rc : pt_set_entry(parent, i, shared);
    flush_rc = lazy_end_and_flush();
    return rc ? rc : flush_rc;
}

/*
 * Unlinks child from entry i of parent; true once nothing maps it, so it
 * may be freed.  If Xen did the unlink and only the flush after it
 * failed, a full flush makes up for it.
 */
static bool unlinked(mfn_t parent, unsigned int i, pte_t shared,
                     mfn_t child, unsigned long flush_va)
{
    int rc = unlink_child(parent, i, shared, flush_va);

    if ( rc && !linked(parent, i, child) )
    {
        mc_request_tlb_flush();
        rc = mc_flush();
    }
    return rc == 0;
}

/* Does every entry of table point at target? */
static bool table_all(mfn_t table, mfn_t target)
{
    unsigned int i;

    for ( i = 0; i < PT_ENTRIES; i++ )
        if ( !mfn_eq(pte_mfn(pt_get_entry(table, i)), target) )
            return false;
    return true;
}

/* Is t, a private table, all entries to one shared page of level - 1? */
static bool table_all_shared(mfn_t t, unsigned int level, enum kind *k)
{
    mfn_t missing = level == 1 ? p2m_shared.missing_mfn
                               : p2m_shared.missing_pte;
    mfn_t identity = level == 1 ? p2m_shared.identity_mfn
                                : p2m_shared.identity_pte;

    *k = KIND_MISSING;
    if ( table_all(t, missing) )
        return true;
    *k = KIND_IDENTITY;
    return table_all(t, identity);
}

static bool is_shared_l1(mfn_t l1)
{
    return mfn_eq(l1, p2m_shared.missing_pte) ||
           mfn_eq(l1, p2m_shared.identity_pte);
}

static bool is_shared_l2(mfn_t l2)
{
    return mfn_eq(l2, p2m_shared.missing_pmd) ||
           mfn_eq(l2, p2m_shared.identity_pmd);
}

/*
 * The L1 of chunk c, then its L2, back onto the shared tables if nothing
 * but one kind of shared page is behind them.  0, or -XEN_EBUSY if Xen
 * refused a step.
 */
static int collapse_tables(unsigned long c)
{
    unsigned long va = chunk_va(c);
    unsigned int i3 = pt_index(va, 3), i2 = pt_index(va, 2);
    mfn_t l2 = pte_mfn(pt_get_entry(p2m_shared.l3, i3));
    mfn_t l1 = pte_mfn(pt_get_entry(l2, i2));
    enum kind k;

    if ( is_shared_l2(l2) )
        return 0;
    if ( !is_shared_l1(l1) && table_all_shared(l1, 1, &k) )
    {
        pte_t shared = table_pte(k == KIND_IDENTITY ? p2m_shared.identity_pte
                                                    : p2m_shared.missing_pte);

        if ( !unlinked(l2, i2, shared, l1, 0) )
            return -XEN_EBUSY;
        pt_free(l1);
    }
    if ( table_all_shared(l2, 2, &k) )
    {
        if ( !unlinked(p2m_shared.l3, i3, shared_l2_pte(k), l2, 0) )
            return -XEN_EBUSY;
        pt_free(l2);
    }
    return 0;
}

/* Chunk c's private leaf back onto the shared leaf of kind k. */
static int collapse_chunk(unsigned long c, enum kind k)
{
    unsigned long va = chunk_va(c);
    mfn_t l2 = pte_mfn(pt_get_entry(p2m_shared.l3, pt_index(va, 3)));
    mfn_t l1 = pte_mfn(pt_get_entry(l2, pt_index(va, 2)));
    unsigned int i1 = pt_index(va, 1);
    mfn_t leaf = pte_mfn(pt_get_entry(l1, i1));
    mfn_t shared = k == KIND_IDENTITY ? p2m_shared.identity_mfn
                                      : p2m_shared.missing_mfn;
    int rc = -XEN_EBUSY;

    p2m_generation_begin();
    if ( unlinked(l1, i1, shared_leaf_pte(k), leaf, va) )
    {
        (void)p2m_frames_set_leaf(c, shared);
        frame_free(mfn_to_pfn(leaf));
        rc = collapse_tables(c);
    }
    p2m_generation_end();
    return rc;
}

/*
 * After a refused make_chunk_private: which new pages did Xen link in?
 * Reading the tables tells.  A new page that is not linked (or is under
 * one that is not) is freed; new tables that are linked but have nothing
 * private behind them are collapsed again.  Returns true if the leaf
 * itself is in: then only a flush after it failed.
 */
static bool drop_unlinked(unsigned long c, const struct fresh_pages *f)
{
    unsigned long va = chunk_va(c);
    mfn_t l2 = pte_mfn(pt_get_entry(p2m_shared.l3, pt_index(va, 3)));
    bool l2_in = mfn_eq(f->l2, INVALID_MFN) || mfn_eq(l2, f->l2);
    bool l1_in = l2_in && (mfn_eq(f->l1, INVALID_MFN) ||
                           linked(l2, pt_index(va, 2), f->l1));
    bool leaf_in = l1_in && !mfn_eq(f->leaf, INVALID_MFN) &&
                   linked(pte_mfn(pt_get_entry(l2, pt_index(va, 2))),
                          pt_index(va, 1), f->leaf);

    if ( !mfn_eq(f->leaf, INVALID_MFN) && !leaf_in )
        frame_free(mfn_to_pfn(f->leaf));
    if ( !mfn_eq(f->l1, INVALID_MFN) && !l1_in )
        pt_free(f->l1);
    if ( !mfn_eq(f->l2, INVALID_MFN) && !l2_in )
        pt_free(f->l2);
    (void)p2m_frames_set_leaf(c, leaf_in ? f->leaf : p2m_shared.missing_mfn);
    /* New tables Xen did link, with nothing behind them, go back too. */
    if ( !leaf_in && collapse_tables(c) )
        remember_collapse(c);
    return leaf_in;
}

/*
 * Gives chunk c a private leaf (and a private L1 and L2 where those were
 * shared), in one batch.  The frame list's mid page is allocated first,
 * so the last step cannot fail; a refused batch is sorted out by
 * drop_unlinked().
 */
static int make_chunk_private(unsigned long c, bool identity)
{
    struct fresh_pages f = { INVALID_MFN, INVALID_MFN, INVALID_MFN };
    unsigned long va = chunk_va(c);
    mfn_t l2, l1;
    int rc, flush_rc;

    if ( (rc = p2m_frames_prepare(c)) != 0 )
        return rc;
    mmu_lazy_begin();
    rc = private_l2(va, &l2, &f.l2);
    if ( !rc )
        rc = private_l1(va, l2, &l1, &f.l1);
    if ( !rc )
        rc = private_leaf(c, l1, identity, &f.leaf);
    flush_rc = lazy_end_and_flush();
    rc = rc ? rc : flush_rc;
    if ( rc && drop_unlinked(c, &f) )
    {
        mc_request_tlb_flush();     /* all linked: make up for the flush */
        rc = mc_flush();
    }
    if ( !rc )
        (void)p2m_frames_set_leaf(c, f.leaf);   /* prepared: cannot fail */
    return rc;
}

/* Grows p2m_size to cover pfn; the VA behind it is mapped already. */
static void grow(unsigned long pfn)
{
    p2m_size = ROUNDUP(pfn + 1, P2M_PER_PAGE);
    p2m_frames_set_size(p2m_size);
}

static int check_set(unsigned long pfn, unsigned long entry)
{
    if ( !p2m_size )
    {
        printk("p2m_set(%#lx): the p2m is not revectored yet\n", pfn);
        return -XEN_EINVAL;
    }
    if ( pfn >= P2M_MAX_PFNS )
    {
        printk("p2m_set(%#lx): beyond the p2m's maximum of %#lx pfns\n",
               pfn, P2M_MAX_PFNS);
        return -XEN_EINVAL;
    }
    if ( p2m_entry_is_identity(entry) && entry != IDENTITY_FRAME(pfn) )
    {
        printk("p2m_set(%#lx): identity entry %#lx names another pfn\n",
               pfn, entry);
        return -XEN_EINVAL;
    }
    return 0;
}

/* What writing entry at pfn p takes, given the page behind its chunk. */
enum write_kind {
    WRITE_PRIVATE,          /* the chunk has its own leaf: just store */
    WRITE_NOTHING,          /* a shared page already means this entry */
    WRITE_NEEDS_LEAF,       /* a shared page means something else */
};

static enum write_kind write_kind(unsigned long p, unsigned long entry,
                                  bool *identity)
{
    mfn_t leaf = p2m_chunk_leaf(p / P2M_PER_PAGE);

    *identity = mfn_eq(leaf, p2m_shared.identity_mfn);
    if ( !*identity && !mfn_eq(leaf, p2m_shared.missing_mfn) )
        return WRITE_PRIVATE;
    if ( entry == (*identity ? IDENTITY_FRAME(p) : INVALID_P2M_ENTRY) )
        return WRITE_NOTHING;
    return WRITE_NEEDS_LEAF;
}

static bool entry_is_real(unsigned long e)
{
    return e != INVALID_P2M_ENTRY && !(e & IDENTITY_FRAME_BIT);
}

/* The one store into a private leaf; keeps the populated count. */
static void store(unsigned long p, unsigned long entry)
{
    p2m_nr_populated += entry_is_real(entry);
    p2m_nr_populated -= entry_is_real(linear[p]);
    WRITE_ONCE(linear[p], entry);
}

/* What chunk c's private leaf holds: all one shared kind, or not. */
static enum kind leaf_kind(unsigned long c)
{
    const unsigned long *leaf = &linear[c * P2M_PER_PAGE];
    unsigned long first = c * P2M_PER_PAGE, i;
    enum kind k = leaf[0] == INVALID_P2M_ENTRY ? KIND_MISSING
                                               : KIND_IDENTITY;

    for ( i = 0; i < P2M_PER_PAGE; i++ )
        if ( leaf[i] != (k == KIND_MISSING ? INVALID_P2M_ENTRY
                                           : IDENTITY_FRAME(first + i)) )
            return KIND_REAL;
    return k;
}

/* After a store: a leaf back to one shared kind returns to that page. */
static void maybe_collapse(unsigned long c, unsigned long entry)
{
    enum kind k;

    if ( entry_is_real(entry) )
        return;
    k = leaf_kind(c);
    if ( k != KIND_REAL && collapse_chunk(c, k) )
        remember_collapse(c);
}

int p2m_set(pfn_t pfn, unsigned long entry)
{
    unsigned long p = pfn_x(pfn);
    enum write_kind kind = WRITE_NOTHING;
    bool identity = false;
    int rc = check_set(p, entry);

    if ( rc )
        return rc;
    /* Past the size every pfn reads identity already. */
    if ( p >= p2m_size && entry == IDENTITY_FRAME(p) )
        return 0;
    if ( p < p2m_size )
        kind = write_kind(p, entry, &identity);
    if ( p < p2m_size && kind != WRITE_NEEDS_LEAF )
    {
        if ( kind != WRITE_PRIVATE )
            return 0;
        store(p, entry);
        maybe_collapse(p / P2M_PER_PAGE, entry);
        return 0;
    }

    /* A change of structure: tools reading the list must notice. */
    p2m_generation_begin();
    if ( p >= p2m_size )
    {
        grow(p);            /* what is unwritten reads as before */
        kind = write_kind(p, entry, &identity);
    }
    if ( kind == WRITE_NEEDS_LEAF &&
         (rc = make_chunk_private(p / P2M_PER_PAGE, identity)) != 0 )
        printk("p2m_set(%#lx): cannot give chunk %#lx a private leaf: %d\n",
               p, p / P2M_PER_PAGE, rc);
    if ( !rc && kind != WRITE_NOTHING )
        store(p, entry);
    p2m_generation_end();
    return rc;
}

/*
 * Visits the structure below the p2m's L3, skipping what is shared: the
 * auditor and the statistics cost O(private pages), however sparse the
 * p2m (2^32 pfns populated terabytes apart is a handful of pages).
 */
void p2m_walk_first(struct p2m_walker *w, unsigned int nr_l3)
{
    unsigned long h, g, k;

    for ( h = 0; h < nr_l3 && !w->stop; h++ )
    {
        mfn_t l2 = pte_mfn(pt_get_entry(p2m_shared.l3, h));

        if ( is_shared_l2(l2) )
        {
            w->shared_l2_maps++;
            if ( w->shared_l2 )
                w->shared_l2(w, h, l2);
            continue;
        }
        w->private_l2++;
        for ( g = h * PT_ENTRIES; g < (h + 1) * PT_ENTRIES && !w->stop; g++ )
        {
            mfn_t l1 = pte_mfn(pt_get_entry(l2, g % PT_ENTRIES));

            if ( is_shared_l1(l1) )
            {
                w->shared_l1_maps++;
                if ( w->shared_gig )
                    w->shared_gig(w, g, l1);
                continue;
            }
            w->private_l1++;
            for ( k = 0; k < PT_ENTRIES && !w->stop; k++ )
                w->chunk(w, g * PT_ENTRIES + k, pt_get_entry(l1, k));
        }
    }
}

void p2m_walk(struct p2m_walker *w)
{
    p2m_walk_first(w, PT_ENTRIES);
}

/*
 * For p2m_trim: the end of the last piece that is not what is unwritten
 * (a private leaf, or a shared page of the other kind).
 */
static void note_last_written(struct p2m_walker *w, unsigned long chunk,
                              pte_t pte)
{
    if ( !mfn_eq(pte_mfn(pte), p2m_unwritten_is_identity()
                               ? p2m_shared.identity_mfn
                               : p2m_shared.missing_mfn) )
        *(unsigned long *)w->ctx = chunk + 1;
}

static void note_written_gig(struct p2m_walker *w, unsigned long gig,
                             mfn_t l1)
{
    if ( !mfn_eq(l1, p2m_unwritten_is_identity() ? p2m_shared.identity_pte
                                                 : p2m_shared.missing_pte) )
        *(unsigned long *)w->ctx = (gig + 1) * CHUNKS_PER_L1;
}

static void note_written_l2(struct p2m_walker *w, unsigned long h, mfn_t l2)
{
    if ( !mfn_eq(l2, p2m_unwritten_is_identity() ? p2m_shared.identity_pmd
                                                 : p2m_shared.missing_pmd) )
        *(unsigned long *)w->ctx = (h + 1) * CHUNKS_PER_L2;
}

/* Collapses refused earlier, tried again while nothing else is queued. */
static void retry_collapses(void)
{
    unsigned int n = nr_pending_collapse;
    unsigned long c;
    mfn_t leaf;

    nr_pending_collapse = 0;
    while ( n-- )
    {
        c = pending_collapse[n];
        leaf = p2m_chunk_leaf(c);
        if ( mfn_eq(leaf, p2m_shared.missing_mfn) ||
             mfn_eq(leaf, p2m_shared.identity_mfn) )
        {
            if ( collapse_tables(c) )
                remember_collapse(c);
        }
        else if ( leaf_kind(c) != KIND_REAL )
            maybe_collapse(c, INVALID_P2M_ENTRY);
    }
}

/*
 * Shrinks p2m_size back after releases: down to the end of the last
 * piece that holds something other than what is unwritten (a private
 * leaf, or a shared page of the other kind), never below the size the p2m
 * had at boot.  Past p2m_size pfns read identity again, and a p2m back
 * within 512 GiB publishes the three-level frame list again.
 */
void p2m_trim(void)
{
    unsigned long end = 0, size;
    struct p2m_walker w = { .chunk = note_last_written,
                            .shared_gig = note_written_gig,
                            .shared_l2 = note_written_l2, .ctx = &end };

    if ( !p2m_size )
        return;
    retry_collapses();
    p2m_walk(&w);
    size = MAX(boot_size, end * P2M_PER_PAGE);
    if ( size >= p2m_size )
        return;
    p2m_generation_begin();
    p2m_size = size;
    p2m_frames_set_size(size);
    p2m_generation_end();
}
