/*
 * The p2m auditor's core, and the statistics and digest: all walk the
 * structure and skip what is shared (p2m_walk), so they cost O(private
 * pages).
 *
 * The invariants it checks (docs/design.md, "Invariants"), each reported
 * with where it broke:
 *  1. every populated pfn maps back through the M2P: m2p[p2m[pfn]] == pfn;
 *     an identity entry names its own pfn;
 *  2. the shared leaves are read-only wherever they are mapped, and still
 *     all INVALID;
 *  3. every leaf mfn in the tools' frame list is the mfn behind the linear
 *     array at that chunk;
 *  4. max_pfn covers every populated pfn, and the populated count kept by
 *     p2m_set is the real one, and the hypervisor's;
 *  5. every L3 entry of the p2m area is present, and the shared L1s, L2s
 *     and frame-list mids hold exactly what they stand for;
 *  6. what the tools read is right: p2m_vaddr, p2m_cr3 (the kernel's
 *     root if the linear list was published, else 0), the frame list's
 *     top below 2^27 pfns and ~0 above, and
 *     p2m_generation even;
 *  8. no page of the p2m (a private leaf, a shared page, the L3, the
 *     frame list) is free in the allocator.
 * Invariants 7 and 9 are about the kernel's own mappings, not the p2m's:
 * pvmm checks them in mm/p2m_pv_audit.c.
 */
#include "p2m_internal.h"

static struct p2m_audit_report last;
static bool failed;

const struct p2m_audit_report *p2m_audit_last(void)
{
    return &last;
}

void p2m_audit_fail(const char *what, unsigned long where,
                    unsigned long found, unsigned long expected)
{
    last = (struct p2m_audit_report){ what, where, found, expected };
    p2m_be_log("p2m audit: %s %#lx: found %#lx, expected %#lx\n", what,
               where, found, expected);
    failed = true;
}

struct audit {
    unsigned long highest, populated, private_leaves, missing, identity;
    bool count_only;            /* statistics: no look inside the leaves */
};

static void report(struct p2m_walker *w, const char *what,
                   unsigned long where, unsigned long found,
                   unsigned long expected)
{
    p2m_audit_fail(what, where, found, expected);
    w->stop = true;
}

static const unsigned long *const linear = (const unsigned long *)P2M_BASE;

/* Invariant 1 for one private leaf. */
static void audit_leaf(struct p2m_walker *w, unsigned long chunk)
{
    const unsigned long *e = linear + chunk * P2M_PER_PAGE;
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

/* Chunks of a shared piece from chunk `first`, n of them, inside the size. */
static unsigned long chunks_inside(unsigned long first, unsigned long n)
{
    unsigned long size_chunks = CHUNK_OF(p2m_size);

    return size_chunks <= first ? 0 : MIN(n, size_chunks - first);
}

static void count_shared(struct audit *a, enum p2m_kind k, unsigned long n)
{
    if ( k == KIND_IDENTITY )
        a->identity += n;
    else
        a->missing += n;
}

static void audit_chunk(struct p2m_walker *w, unsigned long chunk, mfn_t leaf,
                        bool writable)
{
    struct audit *a = w->ctx;
    enum p2m_kind k = p2m_leaf_kind_of(leaf);

    if ( chunk < CHUNK_OF(P2M_FRAME_LIST_PFNS) &&
         !mfn_eq(p2m_frames_leaf(chunk), leaf) )
        return report(w, "frame list leaf of chunk", chunk,
                      mfn_x(p2m_frames_leaf(chunk)), mfn_x(leaf));
    if ( k != KIND_REAL )
    {
        if ( writable )
            report(w, "writable shared leaf behind chunk", chunk, 1, 0);
        count_shared(a, k, chunks_inside(chunk, 1));
        return;
    }
    a->private_leaves++;
    if ( a->count_only )
        return;
    if ( p2m_be_page_is_free(leaf) )
        return report(w, "private leaf free in the allocator, chunk", chunk,
                      mfn_x(leaf), mfn_x(leaf));
    audit_leaf(w, chunk);
}

/*
 * A GiB on a shared L1: the frame list must say the same for all of it,
 * with the shared mid of that kind or a private mid (kept once made).
 */
static void audit_shared_gig(struct p2m_walker *w, unsigned long g, mfn_t l1)
{
    enum p2m_kind k = p2m_l1_kind_of(l1);
    enum p2m_kind other = k == KIND_IDENTITY ? KIND_MISSING : KIND_IDENTITY;
    mfn_t want = p2m_shared_leaf(k), mid = p2m_frames_mid(g);
    unsigned long c;

    count_shared(w->ctx, k, chunks_inside(g * CHUNKS_PER_GIG,
                                          CHUNKS_PER_GIG));
    if ( g >= P2M_FRAME_LIST_PFNS / (CHUNKS_PER_GIG * P2M_PER_PAGE) ||
         mfn_eq(mid, p2m_frames_shared_mid(k)) )
        return;
    if ( mfn_eq(mid, p2m_frames_shared_mid(other)) )
        return report(w, k == KIND_IDENTITY ? "frame list mid of identity GiB"
                                            : "frame list mid of missing GiB",
                      g, mfn_x(mid), mfn_x(p2m_frames_shared_mid(k)));
    for ( c = g * CHUNKS_PER_GIG; c < (g + 1) * CHUNKS_PER_GIG; c++ )
        if ( !mfn_eq(p2m_frames_leaf(c), want) )
            return report(w, "frame list leaf of chunk", c,
                          mfn_x(p2m_frames_leaf(c)), mfn_x(want));
}

/* 512 GiB on a shared L2: each GiB as if on the shared L1 it holds. */
static void audit_shared_l2(struct p2m_walker *w, unsigned long h, mfn_t l2)
{
    enum p2m_kind k = p2m_l2_kind_of(l2);
    unsigned long g;

    /* Past the frame list's reach only the counts matter: one step. */
    if ( h > 0 )
        return count_shared(w->ctx, k, chunks_inside(h * CHUNKS_PER_L2,
                                                     CHUNKS_PER_L2));
    for ( g = 0; g < P2M_PER_PAGE && !w->stop; g++ )
        audit_shared_gig(w, g, p2m_shared_l1(k));
}

/* Invariant 2: a shared leaf is all INVALID. */
static void audit_shared_leaf(struct p2m_walker *w, mfn_t leaf,
                              const char *name)
{
    const unsigned long *e = p2m_be_page_va(leaf);
    unsigned int i;

    for ( i = 0; i < P2M_PER_PAGE && !w->stop; i++ )
        if ( e[i] != INVALID_P2M_ENTRY )
            report(w, name, i, e[i], INVALID_P2M_ENTRY);
}

/*
 * Entry i of a shared table must name child, and a shared leaf must be
 * mapped read-only (a store would get through to 512 pfns at once).
 */
static void audit_shared_table(struct p2m_walker *w, const char *name,
                               mfn_t table, unsigned int level, mfn_t child)
{
    unsigned int i;
    bool writable;
    mfn_t e;

    for ( i = 0; i < P2M_PER_PAGE && !w->stop; i++ )
    {
        e = p2m_be_entry(table, i, &writable);
        if ( !mfn_eq(e, child) )
            report(w, name, i, mfn_x(e), mfn_x(child));
        else if ( level == 1 && writable )
            report(w, name, i, 1, 0);
    }
}

/* Entry i of a shared frame-list mid must name leaf. */
static void audit_shared_mid(struct p2m_walker *w, const char *name,
                             mfn_t mid, mfn_t leaf)
{
    const unsigned long *e = p2m_be_page_va(mid);
    unsigned int i;

    for ( i = 0; i < P2M_PER_PAGE && !w->stop; i++ )
        if ( e[i] != mfn_x(leaf) )
            report(w, name, i, e[i], mfn_x(leaf));
}

/*
 * Invariants 2 and 5: the shared pages and the L3, before anything walks
 * through them (the walk would follow a bad one).
 */
static void audit_shared_pages(struct p2m_walker *w)
{
    const struct p2m_shared_pages *s = &p2m_shared;
    unsigned int h;

    audit_shared_leaf(w, s->missing, "p2m_missing entry");
    audit_shared_leaf(w, s->identity, "p2m_identity entry");
    audit_shared_table(w, "missing_pte entry", s->missing_pte, 1,
                       s->missing);
    audit_shared_table(w, "identity_pte entry", s->identity_pte, 1,
                       s->identity);
    audit_shared_table(w, "missing_pmd entry", s->missing_pmd, 2,
                       s->missing_pte);
    audit_shared_table(w, "identity_pmd entry", s->identity_pmd, 2,
                       s->identity_pte);
    audit_shared_mid(w, "frame list mid_missing entry",
                     p2m_frames_shared_mid(KIND_MISSING), s->missing);
    audit_shared_mid(w, "frame list mid_identity entry",
                     p2m_frames_shared_mid(KIND_IDENTITY), s->identity);
    for ( h = 0; h < P2M_PER_PAGE && !w->stop; h++ )
        if ( mfn_eq(p2m_be_entry(s->l3, h, NULL), INVALID_MFN) )
            report(w, "L3 entry of the p2m, not present", h, 0,
                   mfn_x(s->missing_pmd));
}

/* Invariant 6: what the tools read. */
static void audit_published(struct p2m_walker *w)
{
    struct p2m_be_published p;
    unsigned long top = p2m_size > P2M_FRAME_LIST_PFNS
                        ? ~0UL : mfn_x(p2m_frames_top());

    p2m_be_published(&p);
    if ( p.generation & 1 )
        report(w, "p2m_generation, odd", 0, p.generation, p.generation + 1);
    else if ( p.vaddr != P2M_BASE )
        report(w, "p2m_vaddr", 0, p.vaddr, P2M_BASE);
    else if ( p.cr3 != (p2m_frames_linear_published() ? p.cr3_expected
                                                      : 0) )
        report(w, "p2m_cr3", 0, p.cr3,
               p2m_frames_linear_published() ? p.cr3_expected : 0);
    else if ( p.frame_list != top )
        report(w, "pfn_to_mfn_frame_list_list", p2m_size, p.frame_list,
               top);
}

/* Invariants 4 (the hypervisor's count) and 8 (fixed pages not free). */
static void audit_accounting(struct p2m_walker *w)
{
    const struct p2m_shared_pages *s = &p2m_shared;
    const mfn_t fixed[] = { s->missing, s->identity, s->missing_pte,
                            s->identity_pte, s->missing_pmd,
                            s->identity_pmd, s->l3, p2m_frames_top(),
                            p2m_frames_shared_mid(KIND_MISSING),
                            p2m_frames_shared_mid(KIND_IDENTITY) };
    long xen = p2m_be_reservation();
    unsigned int i;

    if ( xen >= 0 && (unsigned long)xen != p2m_nr_populated )
        return report(w, "populated count, Xen's reservation", 0,
                      p2m_nr_populated, xen);
    for ( i = 0; i < ARRAY_SIZE(fixed); i++ )
        if ( p2m_be_page_is_free(fixed[i]) )
            return report(w, "shared p2m page free in the allocator, mfn",
                          mfn_x(fixed[i]), 1, 0);
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
    p2m_walk(w);
}

/* Invariant 4: the size and the counts against what the walk found. */
static void audit_counts(struct p2m_walker *w, const struct audit *a)
{
    struct p2m_be_published p;

    p2m_be_published(&p);
    if ( a->populated && p.max_pfn < a->highest + 1 )
        report(w, "max_pfn, below highest populated pfn", a->highest,
               p.max_pfn, a->highest + 1);
    else if ( p.max_pfn != p2m_size )
        report(w, "max_pfn, not the p2m's size", p2m_size, p.max_pfn,
               p2m_size);
    else if ( a->populated != p2m_nr_populated )
        report(w, "populated count, kept", p2m_nr_populated, a->populated,
               p2m_nr_populated);
}

int p2m_core_audit(void)
{
    struct p2m_walker w = { 0 };
    struct audit a;

    failed = false;
    if ( !p2m_size )
        return 0;
    audit_shared_pages(&w);
    if ( !failed )
        audit_walk(&w, &a, false);
    if ( !failed )
        audit_counts(&w, &a);
    if ( !failed )
        audit_accounting(&w);
    if ( !failed )
        audit_published(&w);
    return failed ? -1 : 0;
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

static void digest_chunk(struct p2m_walker *w, unsigned long chunk,
                         mfn_t leaf, bool writable)
{
    const unsigned long *e = linear + chunk * P2M_PER_PAGE;
    struct digest *d = w->ctx;
    unsigned long i;

    (void)writable;
    if ( p2m_leaf_kind_of(leaf) != KIND_REAL ||
         chunk >= CHUNK_OF(p2m_size) )
        return;
    for ( i = 0; i < P2M_PER_PAGE; i++ )
        if ( p2m_entry_is_populated(e[i]) )
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
