/*
 * The shape of the linear p2m, and reading it.
 *
 *   P2M_BASE
 *     L3 (private) --- 512 entries, each 2^27 pfns (512 GiB)
 *       |- private L2 ............. where some chunk below is real
 *       |- missing_pmd (shared) ... 512 x missing_pte
 *       '- identity_pmd (shared) .. 512 x identity_pte
 *     L2 entry: 2^18 pfns (1 GiB) = one L1 of 512 chunks
 *       |- private L1 ............. mixed or real chunks
 *       |- missing_pte (shared) ... 512 x p2m_missing, read-only
 *       '- identity_pte (shared) .. 512 x p2m_identity, read-only
 *     L1 entry: one 512-entry chunk (one page of the array)
 *       |- private leaf (RW) ...... real entries
 *       |- p2m_missing (RO) ....... all INVALID: missing pfns
 *       '- p2m_identity (RO) ...... all INVALID: identity pfns
 *
 * Invariants (docs/design.md, "Invariants"):
 *  - every L3 entry is present, so any pfn < P2M_MAX_PFNS reads without a
 *    fault, and growing the p2m is a new p2m_size, not new mappings;
 *  - nothing is ever written into a shared page (mm/p2m_set.c);
 *  - a chunk backed by p2m_identity reads INVALID, and the slow path
 *    tells it from a missing one by that backing page;
 *  - what p2m_set() never wrote, inside p2m_size and past it, reads as
 *    the unwritten kind (struct p2m_build), so growing p2m_size changes
 *    how no pfn reads but the one written;
 *  - p2m_generation is odd while mappings change, and no lock-free store
 *    is in flight once a change has begun (p2m_generation_begin waits);
 *  - the slow path answers only from reads the generation brackets.
 *
 * This file builds the shared pages, answers "what is behind chunk c"
 * (the slow path a seqlock read, docs/concurrency.md) and keeps the
 * generation; the walker visits the private part only.
 */
#include "p2m_internal.h"

struct p2m_shared_pages p2m_shared;
static bool unwritten_identity;

const struct p2m_shared_pages *p2m_shared_pages(void)
{
    return &p2m_shared;
}

void p2m_set_unwritten(bool identity)
{
    unwritten_identity = identity;
}

enum p2m_kind p2m_unwritten_kind(void)
{
    return unwritten_identity ? KIND_IDENTITY : KIND_MISSING;
}

mfn_t p2m_shared_leaf(enum p2m_kind k)
{
    return k == KIND_IDENTITY ? p2m_shared.identity : p2m_shared.missing;
}

mfn_t p2m_shared_l1(enum p2m_kind k)
{
    return k == KIND_IDENTITY ? p2m_shared.identity_pte
                              : p2m_shared.missing_pte;
}

mfn_t p2m_shared_l2(enum p2m_kind k)
{
    return k == KIND_IDENTITY ? p2m_shared.identity_pmd
                              : p2m_shared.missing_pmd;
}

/* Which shared page of a level `page` is: the level's pair is given. */
static enum p2m_kind kind_of(mfn_t page, mfn_t missing, mfn_t identity)
{
    if ( mfn_eq(page, missing) )
        return KIND_MISSING;
    return mfn_eq(page, identity) ? KIND_IDENTITY : KIND_REAL;
}

enum p2m_kind p2m_leaf_kind_of(mfn_t leaf)
{
    return kind_of(leaf, p2m_shared.missing, p2m_shared.identity);
}

enum p2m_kind p2m_l1_kind_of(mfn_t l1)
{
    return kind_of(l1, p2m_shared.missing_pte, p2m_shared.identity_pte);
}

enum p2m_kind p2m_l2_kind_of(mfn_t l2)
{
    return kind_of(l2, p2m_shared.missing_pmd, p2m_shared.identity_pmd);
}

/* A shared leaf: all INVALID, read-only wherever it is mapped. */
static mfn_t shared_leaf(void)
{
    unsigned long *va;
    mfn_t leaf = p2m_be_page_alloc(&va);

    if ( mfn_eq(leaf, INVALID_MFN) )
        return leaf;
    p2m_page_fill(va, INVALID_P2M_ENTRY);
    return p2m_be_page_share(leaf) ? INVALID_MFN : leaf;
}

/* A finished shared table whose every entry names child. */
static mfn_t shared_table(unsigned int level, mfn_t child)
{
    mfn_t t;

    if ( mfn_eq(child, INVALID_MFN) )
        return child;
    t = p2m_be_table_alloc(level, child, false);
    if ( mfn_eq(t, INVALID_MFN) )
        return t;
    return p2m_be_table_seal(t, level) ? INVALID_MFN : t;
}

int p2m_shared_build(void)
{
    struct p2m_shared_pages *s = &p2m_shared;

    s->missing = shared_leaf();
    s->identity = shared_leaf();
    s->missing_pte = shared_table(1, s->missing);
    s->identity_pte = shared_table(1, s->identity);
    s->missing_pmd = shared_table(2, s->missing_pte);
    s->identity_pmd = shared_table(2, s->identity_pte);
    return mfn_eq(s->missing_pmd, INVALID_MFN) ||
           mfn_eq(s->identity_pmd, INVALID_MFN) ? -XEN_ENOMEM : 0;
}

mfn_t p2m_l2_of(unsigned long c)
{
    return p2m_be_entry(p2m_shared.l3, c / CHUNKS_PER_L2 % P2M_PER_PAGE,
                        NULL);
}

mfn_t p2m_l1_of(unsigned long c)
{
    mfn_t l2 = p2m_l2_of(c);

    if ( mfn_eq(l2, INVALID_MFN) )
        return l2;
    return p2m_be_entry(l2, c / CHUNKS_PER_GIG % P2M_PER_PAGE, NULL);
}

mfn_t p2m_chunk_leaf(unsigned long c)
{
    mfn_t l1;

    if ( !p2m_size || c >= CHUNK_OF(P2M_MAX_PFNS) )
        return INVALID_MFN;
    l1 = p2m_l1_of(c);
    if ( mfn_eq(l1, INVALID_MFN) )
        return l1;
    return p2m_be_entry(l1, c % P2M_PER_PAGE, NULL);
}

/* What a pfn nobody wrote reads. */
static unsigned long unwritten_entry(unsigned long pfn)
{
    return p2m_kind_entry(p2m_unwritten_kind(), pfn);
}

/*
 * The slow path once the linear p2m exists: the fast path found INVALID,
 * or pfn is past p2m_size.  Past the size a pfn reads what is unwritten,
 * as the structure there holds: growing over it then changes nothing,
 * and a domU's foreign mfn is never taken for an identity pfn of its
 * own.  Inside, the backing page tells which INVALID.
 */
static unsigned long resolve_once(unsigned long pfn)
{
    unsigned long e;

    if ( pfn >= READ_ONCE(p2m_size) )
        return unwritten_entry(pfn);    /* trimmed meanwhile */
    e = READ_ONCE(((unsigned long *)P2M_BASE)[pfn]);
    if ( e != INVALID_P2M_ENTRY )
        return e;                   /* stored since the fast path looked */
    if ( p2m_leaf_kind_of(p2m_chunk_leaf(CHUNK_OF(pfn))) == KIND_IDENTITY )
        return IDENTITY_FRAME(pfn);
    return INVALID_P2M_ENTRY;
}

/*
 * The array's INVALID and the page behind it are two reads: a collapse
 * or a privatise on another CPU between them would pair the shared
 * page's INVALID with the new leaf's kind (the test that found it read
 * "missing" for a pfn that was identity throughout).  So this is a
 * seqlock read: with the generation even and unchanged around both
 * reads, nothing moved between them; the CPU changing the structure
 * itself (the lock holder) reads its own work as it stands.
 */
unsigned long p2m_linear_resolve(unsigned long pfn)
{
    const volatile unsigned long *gen;
    unsigned long g, e;
    bool writer;

    /* One read, so no tearing: past the size, growing changes nothing. */
    if ( pfn >= READ_ONCE(p2m_size) )
        return unwritten_entry(pfn);
    gen = p2m_be_generation();
    writer = p2m_be_writing();
    for ( ;; )
    {
        while ( ((g = *gen) & 1) && !writer )
            p2m_be_relax();
        rmb();
        e = resolve_once(pfn);
        rmb();
        if ( writer || *gen == g )
            return e;
    }
}

/*
 * Lock-free stores in flight (p2m_set.c).  A structure change makes the
 * generation odd, then waits for this to reach 0; a store counts itself
 * in, then backs off to the lock if the generation is odd.  Each side
 * writes its word before it reads the other's, with a full barrier
 * between (the one reordering x86 does is a load before an older store),
 * so at least one of them sees the other: no store lands in a leaf that
 * a structure change is about to free, and no store sees the structure
 * half changed.
 */
static unsigned long stores_in_flight;

bool p2m_store_begin(void)
{
    __atomic_add_fetch(&stores_in_flight, 1, __ATOMIC_SEQ_CST);
    if ( !(READ_ONCE(*p2m_be_generation()) & 1) )
        return true;
    p2m_store_end();
    return false;
}

void p2m_store_end(void)
{
    __atomic_sub_fetch(&stores_in_flight, 1, __ATOMIC_RELEASE);
}

void p2m_generation_begin(void)
{
    (*p2m_be_generation())++;
    mb();
    while ( __atomic_load_n(&stores_in_flight, __ATOMIC_ACQUIRE) )
        p2m_be_relax();
}

void p2m_generation_end(void)
{
    wmb();
    (*p2m_be_generation())++;
}

/* The 512 chunks of GiB g under the private L1 l1. */
static void walk_l1(struct p2m_walker *w, unsigned long g, mfn_t l1)
{
    unsigned long k;
    mfn_t leaf;
    bool writable;

    w->private_l1++;
    for ( k = 0; k < P2M_PER_PAGE && !w->stop; k++ )
    {
        leaf = p2m_be_entry(l1, k, &writable);
        w->chunk(w, g * CHUNKS_PER_GIG + k, leaf, writable);
    }
}

/* The 512 GiBs of h under the private L2 l2. */
static void walk_l2(struct p2m_walker *w, unsigned long h, mfn_t l2)
{
    unsigned long g;
    mfn_t l1;

    w->private_l2++;
    for ( g = h * P2M_PER_PAGE; g < (h + 1) * P2M_PER_PAGE && !w->stop; g++ )
    {
        l1 = p2m_be_entry(l2, g % P2M_PER_PAGE, NULL);
        if ( mfn_eq(l1, INVALID_MFN) )
            continue;               /* broken: the auditor says so first */
        if ( p2m_l1_kind_of(l1) == KIND_REAL )
        {
            walk_l1(w, g, l1);
            continue;
        }
        w->shared_l1_maps++;
        if ( w->shared_gig )
            w->shared_gig(w, g, l1);
    }
}

void p2m_walk_first(struct p2m_walker *w, unsigned int nr_l3)
{
    unsigned long h;
    mfn_t l2;

    for ( h = 0; h < nr_l3 && !w->stop; h++ )
    {
        l2 = p2m_be_entry(p2m_shared.l3, h, NULL);
        if ( mfn_eq(l2, INVALID_MFN) )
            continue;               /* broken: the auditor says so first */
        if ( p2m_l2_kind_of(l2) == KIND_REAL )
        {
            walk_l2(w, h, l2);
            continue;
        }
        w->shared_l2_maps++;
        if ( w->shared_l2 )
            w->shared_l2(w, h, l2);
    }
}

void p2m_walk(struct p2m_walker *w)
{
    p2m_walk_first(w, P2M_PER_PAGE);
}
