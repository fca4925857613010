/*
 * The p2m auditor, and the statistics: both walk the structure and skip
 * what is shared (p2m_walk), so they cost O(private pages).
 *
 * The invariants (DESIGN section 2), each reported with where it broke:
 *  1. every populated pfn maps back through the M2P: m2p[p2m[pfn]] == pfn;
 *     an identity entry names its own pfn;
 *  2. the shared pages are read-only wherever they are mapped, and still
 *     all INVALID;
 *  3. every leaf mfn in the tools' frame list is the mfn behind the linear
 *     array at that chunk;
 *  4. max_pfn covers every populated pfn, and the populated count kept by
 *     p2m_set is the real one, and Xen's (its current reservation);
 *  5. every L3 entry of the p2m area is present, and the shared L1s, L2s
 *     and frame-list mids hold exactly what they stand for;
 *  6. what the tools read is right: p2m_vaddr, p2m_cr3 (0 or the kernel's
 *     L4), the frame list's top below 2^27 pfns and ~0 above, and
 *     p2m_generation even;
 *  7. the direct map maps exactly the populated pfns, each to its mfn: a
 *     released frame is not mapped;
 *  8. no page of the p2m (a private leaf, a shared page, the L3) is free
 *     in the frame allocator;
 *  9. every frame whose role is read-only (a pagetable, a shared p2m page)
 *     is mapped read-only in every alias: the direct map, the builder's
 *     area, and a PMAP slot.
 */
#include "p2m_internal.h"
#include <pvmm/pt.h>
#include <pvmm/directmap.h>
#include <pvmm/shared_info.h>
#include <pvmm/printk.h>
#include <pvmm/frame.h>
#include <pvmm/hypercall.h>
#include <pvmm/bootmap.h>
#include <pvmm/layout.h>
#include <pvmm/pmap.h>

static struct p2m_audit_report last;

const struct p2m_audit_report *p2m_audit_last(void)
{
    return &last;
}

struct audit {
    unsigned long highest, populated, private_leaves, missing, identity;
    int failed;
    bool count_only;            /* statistics: no look inside the leaves */
};

static void report(struct p2m_walker *w, const char *what,
                   unsigned long where, unsigned long found,
                   unsigned long expected)
{
    struct audit *a = w->ctx;

    last = (struct p2m_audit_report){ what, where, found, expected };
    printk("p2m audit: %s %#lx: found %#lx, expected %#lx\n", what, where,
           found, expected);
    a->failed = -1;
    w->stop = true;
}

static bool is_shared_leaf(mfn_t leaf)
{
    return mfn_eq(leaf, p2m_shared.missing_mfn) ||
           mfn_eq(leaf, p2m_shared.identity_mfn);
}

/* Invariant 1 for one private leaf. */
static void audit_leaf(struct p2m_walker *w, unsigned long chunk)
{
    const unsigned long *e = (const unsigned long *)P2M_BASE +
                             chunk * P2M_PER_PAGE;
    struct audit *a = w->ctx;
    unsigned long i, pfn;

    for ( i = 0; i < P2M_PER_PAGE && !w->stop; i++ )
    {
        pfn = chunk * P2M_PER_PAGE + i;
        if ( e[i] == INVALID_P2M_ENTRY )
            continue;
        if ( e[i] & IDENTITY_FRAME_BIT )
        {
            if ( e[i] != IDENTITY_FRAME(pfn) )
                report(w, "identity entry of pfn", pfn, e[i],
                       IDENTITY_FRAME(pfn));
            continue;
        }
        if ( !pfn_eq(mfn_to_pfn(_mfn(e[i])), _pfn(pfn)) )
            report(w, "m2p of the mfn of pfn", pfn, p2m_m2p_raw(_mfn(e[i])),
                   pfn);
        a->highest = pfn;
        a->populated++;
    }
}

static void audit_chunk(struct p2m_walker *w, unsigned long chunk, pte_t pte)
{
    struct audit *a = w->ctx;
    mfn_t leaf = pte_mfn(pte);

    if ( chunk < P2M_FRAME_LIST_PFNS / P2M_PER_PAGE &&
         !mfn_eq(p2m_frames_leaf(chunk), leaf) )
        return report(w, "frame list leaf of chunk", chunk,
                      mfn_x(p2m_frames_leaf(chunk)), mfn_x(leaf));
    if ( is_shared_leaf(leaf) )
    {
        bool inside = chunk < p2m_size / P2M_PER_PAGE;

        if ( pte & _PAGE_RW )
            report(w, "writable shared leaf behind chunk", chunk, pte,
                   pte & ~_PAGE_RW);
        a->missing += inside && mfn_eq(leaf, p2m_shared.missing_mfn);
        a->identity += inside && mfn_eq(leaf, p2m_shared.identity_mfn);
        return;
    }
    a->private_leaves++;
    if ( a->count_only )
        return;
    if ( frame_is_free(mfn_to_pfn(leaf)) )
        return report(w, "private leaf free in the allocator, chunk", chunk,
                      mfn_x(leaf), mfn_x(leaf));
    audit_leaf(w, chunk);
}

/*
 * A GiB on a shared L1: the frame list must say the same for all of it,
 * with the shared mid of that kind or a private mid (kept once made).
 */
static void audit_shared_gig(struct p2m_walker *w, unsigned long gig, mfn_t l1)
{
    bool identity = mfn_eq(l1, p2m_shared.identity_pte);
    mfn_t want = identity ? p2m_shared.identity_mfn : p2m_shared.missing_mfn;
    mfn_t mid = p2m_frames_mid(gig);
    struct audit *a = w->ctx;
    unsigned long c, size_chunks = p2m_size / P2M_PER_PAGE;
    unsigned long inside = size_chunks <= gig * P2M_PER_PAGE ? 0 :
                           MIN(P2M_PER_PAGE, size_chunks - gig * P2M_PER_PAGE);

    if ( identity )
        a->identity += inside;
    else
        a->missing += inside;
    if ( gig >= P2M_FRAME_LIST_PFNS / (P2M_PER_PAGE * P2M_PER_PAGE) ||
         mfn_eq(mid, p2m_frames_shared_mid(identity)) )
        return;
    if ( mfn_eq(mid, p2m_frames_shared_mid(!identity)) )
        return report(w, identity ? "frame list mid of identity GiB"
                                  : "frame list mid of missing GiB",
                      gig, mfn_x(mid),
                      mfn_x(p2m_frames_shared_mid(identity)));
    for ( c = gig * P2M_PER_PAGE; c < (gig + 1) * P2M_PER_PAGE; c++ )
        if ( !mfn_eq(p2m_frames_leaf(c), want) )
            return report(w, "frame list leaf of chunk", c,
                          mfn_x(p2m_frames_leaf(c)), mfn_x(want));
}

/* 512 GiB on a shared L2: each GiB as if on the shared L1 it holds. */
static void audit_shared_l2(struct p2m_walker *w, unsigned long h, mfn_t l2)
{
    mfn_t l1 = mfn_eq(l2, p2m_shared.identity_pmd) ? p2m_shared.identity_pte
                                                   : p2m_shared.missing_pte;
    unsigned long g;

    /* Past the frame list's reach only the counts matter: one step. */
    if ( h > 0 )
    {
        struct audit *a = w->ctx;
        unsigned long first = h * P2M_PER_PAGE * P2M_PER_PAGE;
        unsigned long size_chunks = p2m_size / P2M_PER_PAGE;
        unsigned long inside = size_chunks <= first ? 0 :
            MIN(P2M_PER_PAGE * P2M_PER_PAGE, size_chunks - first);

        if ( mfn_eq(l1, p2m_shared.identity_pte) )
            a->identity += inside;
        else
            a->missing += inside;
        return;
    }
    for ( g = 0; g < P2M_PER_PAGE && !w->stop; g++ )
        audit_shared_gig(w, g, l1);
}

/* Invariant 2: the shared leaves are all INVALID and read-only. */
static void audit_shared_leaf(struct p2m_walker *w, pfn_t pfn,
                              const char *name)
{
    const unsigned long *leaf = directmap_va(pfn);
    unsigned int i, index;
    mfn_t l1;
    pte_t pte;

    for ( i = 0; i < P2M_PER_PAGE && !w->stop; i++ )
        if ( leaf[i] != INVALID_P2M_ENTRY )
            report(w, name, i, leaf[i], INVALID_P2M_ENTRY);
    if ( w->stop || pt_walk(pt_kernel_root(), (unsigned long)leaf, 1, &l1,
                            &index) )
        return;
    pte = pt_get_entry(l1, index);
    if ( pte & _PAGE_RW )
        report(w, name, pfn_x(pfn), pte, pte & ~_PAGE_RW);
}

/* A shared page: every entry of it, and what each must be. */
struct shared_page {
    const char *name;
    mfn_t page;
    unsigned long entry;        /* a whole word: a PTE or an mfn */
};

/*
 * Invariant 5: entry i of every shared table and shared mid, and the L3.
 * The leaves' PTEs are read-only: a writable one would let a store into
 * a shared leaf through.
 */
static void audit_shared_tables(struct p2m_walker *w)
{
    const struct shared_page pages[] = {
        { "missing_pte entry", p2m_shared.missing_pte,
          pte_from_mfn(p2m_shared.missing_mfn, PTE_KERNEL_RO) | pte_nx },
        { "identity_pte entry", p2m_shared.identity_pte,
          pte_from_mfn(p2m_shared.identity_mfn, PTE_KERNEL_RO) | pte_nx },
        { "missing_pmd entry", p2m_shared.missing_pmd,
          pte_from_mfn(p2m_shared.missing_pte, PT_TABLE_FLAGS) },
        { "identity_pmd entry", p2m_shared.identity_pmd,
          pte_from_mfn(p2m_shared.identity_pte, PT_TABLE_FLAGS) },
        { "frame list mid_missing entry", p2m_frames_shared_mid(false),
          mfn_x(p2m_shared.missing_mfn) },
        { "frame list mid_identity entry", p2m_frames_shared_mid(true),
          mfn_x(p2m_shared.identity_mfn) },
    };
    /* Xen and the CPU may add user/accessed/dirty/software bits: not these. */
    const pte_t bits = PTE_ADDR_MASK | _PAGE_PRESENT | _PAGE_RW;
    unsigned int t, i;
    unsigned long e, want;
    pte_t l3e;

    for ( t = 0; t < ARRAY_SIZE(pages) && !w->stop; t++ )
    {
        const unsigned long *p = directmap_va(mfn_to_pfn(pages[t].page));

        for ( i = 0; i < PT_ENTRIES && !w->stop; i++ )
        {
            e = t < 4 ? p[i] & bits : p[i];
            want = t < 4 ? pages[t].entry & bits : pages[t].entry;
            if ( e != want )
                report(w, pages[t].name, i, p[i], pages[t].entry);
        }
    }
    for ( i = 0; i < PT_ENTRIES && !w->stop; i++ )
    {
        l3e = pt_get_entry(p2m_shared.l3, i);
        if ( !(l3e & _PAGE_PRESENT) )
            report(w, "L3 entry of the p2m, not present", i, l3e,
                   pte_from_mfn(p2m_shared.missing_pmd, PT_TABLE_FLAGS));
    }
}

/* Invariant 6: what the tools read. */
static void audit_published(struct p2m_walker *w)
{
    const struct arch_shared_info *a = &xen_shared_info->arch;
    unsigned long top = p2m_size > P2M_FRAME_LIST_PFNS
                        ? ~0UL : mfn_x(p2m_frames_top());
    unsigned long cr3 = xen_pfn_to_cr3(mfn_x(pt_kernel_root()));

    if ( a->p2m_generation & 1 )
        report(w, "p2m_generation, odd", 0, a->p2m_generation,
               a->p2m_generation + 1);
    else if ( a->p2m_vaddr != P2M_BASE )
        report(w, "p2m_vaddr", 0, a->p2m_vaddr, P2M_BASE);
    else if ( a->p2m_cr3 && a->p2m_cr3 != cr3 )
        report(w, "p2m_cr3", 0, a->p2m_cr3, cr3);
    else if ( a->pfn_to_mfn_frame_list_list != top )
        report(w, "pfn_to_mfn_frame_list_list", p2m_size,
               a->pfn_to_mfn_frame_list_list, top);
}

/* Invariant 9 for one alias PTE of pfn. */
static void audit_alias(struct p2m_walker *w, const char *what, pfn_t pfn,
                        pte_t pte)
{
    if ( (pte & _PAGE_PRESENT) && (pte & _PAGE_RW) &&
         (pt_role(pfn) & PT_ROLE_RO) )
        report(w, what, pfn_x(pfn), pte, pte & ~_PAGE_RW);
}

/* Invariant 7 for the 512 pfns that L1 page t maps, from first. */
static void audit_directmap_l1(struct p2m_walker *w, const pte_t *t,
                               unsigned long first)
{
    unsigned long i, e, found, expected;

    for ( i = 0; i < PT_ENTRIES && first + i < directmap.nr_pfns; i++ )
    {
        e = p2m_get_entry(_pfn(first + i));
        expected = e == INVALID_P2M_ENTRY || (e & IDENTITY_FRAME_BIT) ? ~0UL
                                                                     : e;
        found = (t[i] & _PAGE_PRESENT) ? mfn_x(pte_mfn(t[i])) : ~0UL;
        if ( found != expected )
            return report(w, "direct map of pfn", first + i, found,
                          expected);
        audit_alias(w, "writable direct-map alias of read-only pfn",
                    _pfn(first + i), t[i]);
    }
}

/*
 * Invariant 7: one L1 of the direct map at a time, each mapped once (this
 * runs after every test, over every pfn: it has to be cheap per pfn).
 */
static void audit_directmap(struct p2m_walker *w)
{
    unsigned long pfn;
    unsigned int index;
    const pte_t *t;
    mfn_t l1;

    for ( pfn = 0; pfn < directmap.nr_pfns && !w->stop; pfn += PT_ENTRIES )
    {
        if ( pt_walk(pt_kernel_root(), (unsigned long)directmap_va(_pfn(pfn)),
                     1, &l1, &index) )
            return report(w, "direct map L1 of pfn, missing", pfn, 0, 1);
        t = pt_map(l1);
        audit_directmap_l1(w, t, pfn);
        pt_unmap(t);
    }
}

/* Invariant 9: the builder's area, one L1 at a time, and PMAP's slots. */
static void audit_other_aliases(struct p2m_walker *w)
{
    unsigned long pfn, end = pfn_x(bootmap.mapped_end), i;
    unsigned int index;
    const pte_t *t;
    pte_t pte;
    mfn_t l1;

    for ( pfn = 0; pfn < end && !w->stop; pfn += PT_ENTRIES )
    {
        if ( pt_walk(pt_kernel_root(), VIRT_BASE + (pfn << PAGE_SHIFT), 1,
                     &l1, &index) )
            continue;               /* that 2 MiB is no longer mapped */
        t = pt_map(l1);
        for ( i = 0; i < PT_ENTRIES && pfn + i < end && !w->stop; i++ )
            audit_alias(w, "writable builder alias of read-only pfn",
                        _pfn(pfn + i), t[index + i]);
        pt_unmap(t);
    }
    for ( i = 0; i < PMAP_SLOTS && !w->stop; i++ )
    {
        if ( pt_walk(pt_kernel_root(),
                     (unsigned long)fixmap_va(FIXMAP_PMAP_FIRST + i), 1, &l1,
                     &index) )
            continue;
        pte = pt_get_entry(l1, index);
        if ( pte & _PAGE_PRESENT )
            audit_alias(w, "writable PMAP alias of read-only pfn",
                        mfn_to_pfn(pte_mfn(pte)), pte);
    }
}

/* Invariants 4 (Xen's count) and 8 (the fixed pages are not free). */
static void audit_accounting(struct p2m_walker *w)
{
    const pfn_t fixed[] = { p2m_shared.missing, p2m_shared.identity,
                            mfn_to_pfn(p2m_shared.missing_pte),
                            mfn_to_pfn(p2m_shared.identity_pte),
                            mfn_to_pfn(p2m_shared.missing_pmd),
                            mfn_to_pfn(p2m_shared.identity_pmd),
                            mfn_to_pfn(p2m_shared.l3),
                            mfn_to_pfn(p2m_frames_top()),
                            mfn_to_pfn(p2m_frames_shared_mid(false)),
                            mfn_to_pfn(p2m_frames_shared_mid(true)) };
    domid_t self = DOMID_SELF;
    long xen = HYPERVISOR_memory_op(XENMEM_current_reservation, &self);
    unsigned int i;

    if ( xen >= 0 && (unsigned long)xen != p2m_nr_populated )
        return report(w, "populated count, Xen's reservation", 0,
                      p2m_nr_populated, xen);
    for ( i = 0; i < ARRAY_SIZE(fixed); i++ )
        if ( frame_is_free(fixed[i]) )
            return report(w, "shared p2m page free in the allocator, pfn",
                          pfn_x(fixed[i]), 1, 0);
}

/*
 * Walks everything once; fills *a and the walker's table counts.  With
 * count_only (the statistics) the leaves' contents are not checked: the
 * sweep asks for statistics many times, and a leaf check is 512 M2P reads.
 */
static void audit_walk(struct p2m_walker *w, struct audit *a,
                       bool count_only)
{
    *a = (struct audit){ .count_only = count_only };
    *w = (struct p2m_walker){ .chunk = audit_chunk,
                              .shared_gig = audit_shared_gig,
                              .shared_l2 = audit_shared_l2, .ctx = a };
    audit_shared_leaf(w, p2m_shared.missing, "p2m_missing entry");
    audit_shared_leaf(w, p2m_shared.identity, "p2m_identity entry");
    if ( !w->stop )
        p2m_walk(w);
}

int p2m_audit(void)
{
    unsigned long max_pfn = xen_shared_info->arch.max_pfn;
    struct p2m_walker w;
    struct audit a = { 0 };

    if ( !p2m_size )
        return 0;
    /* The tables the walk trusts come first: it would follow a bad one. */
    w = (struct p2m_walker){ .ctx = &a };
    audit_shared_tables(&w);
    if ( a.failed )
        return -1;
    audit_walk(&w, &a, false);
    if ( a.failed )
        return -1;
    if ( a.populated && max_pfn < a.highest + 1 )
        report(&w, "max_pfn, below highest populated pfn", a.highest,
               max_pfn, a.highest + 1);
    else if ( max_pfn != p2m_size )
        report(&w, "max_pfn, not the p2m's size", p2m_size, max_pfn,
               p2m_size);
    else if ( a.populated != p2m_nr_populated )
        report(&w, "populated count, kept", p2m_nr_populated, a.populated,
               p2m_nr_populated);
    if ( !a.failed )
        audit_accounting(&w);
    if ( !a.failed )
        audit_published(&w);
    if ( !a.failed )
        audit_directmap(&w);
    if ( !a.failed )
        audit_other_aliases(&w);
    return a.failed;
}

void p2m_get_stats(struct p2m_stats *st)
{
    struct p2m_walker w;
    struct audit a;

    audit_walk(&w, &a, true);
    *st = (struct p2m_stats){
        .size = p2m_size, .populated = p2m_nr_populated,
        .private_leaves = a.private_leaves,
        .missing_leaf_maps = a.missing, .identity_leaf_maps = a.identity,
        .private_l1 = w.private_l1, .shared_l1_maps = w.shared_l1_maps,
        .private_l2 = w.private_l2, .shared_l2_maps = w.shared_l2_maps,
        .frame_list_pages = p2m_frames_pages(),
    };
}

struct digest {
    unsigned long count;
    uint64_t hash;
};

static void digest_word(struct digest *d, uint64_t w)
{
    unsigned int i;

    for ( i = 0; i < 8; i++, w >>= 8 )
    {
        d->hash ^= w & 0xff;
        d->hash *= 0x100000001b3ULL;        /* FNV-1a 64 prime */
    }
}

static void digest_chunk(struct p2m_walker *w, unsigned long chunk, pte_t pte)
{
    const unsigned long *e = (const unsigned long *)P2M_BASE +
                             chunk * P2M_PER_PAGE;
    struct digest *d = w->ctx;
    unsigned long i;

    if ( is_shared_leaf(pte_mfn(pte)) || chunk >= p2m_size / P2M_PER_PAGE )
        return;
    for ( i = 0; i < P2M_PER_PAGE; i++ )
        if ( e[i] != INVALID_P2M_ENTRY && !(e[i] & IDENTITY_FRAME_BIT) )
        {
            digest_word(d, chunk * P2M_PER_PAGE + i);
            digest_word(d, e[i]);
            d->count++;
        }
}

void p2m_digest(unsigned long *count, uint64_t *hash)
{
    struct digest d = { 0, 0xcbf29ce484222325ULL };   /* FNV-1a offset */
    struct p2m_walker w = { .chunk = digest_chunk, .ctx = &d };

    p2m_walk(&w);
    *count = d.count;
    *hash = d.hash;
}
