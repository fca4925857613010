/*
 * The one-time revector: the boot view (any function that gives each
 * pfn's entry) becomes the linear p2m, in one batch.
 *
 * Each piece of the structure is classified by what the boot view holds
 * in it: all missing or all identity maps the shared page of that kind,
 * anything with a real entry gets private pages.  All 512 L3 entries are
 * classified, past the size too: there the unwritten kind is what a pfn
 * reads, so every L3 entry is present and growing needs no mapping.
 *
 * On failure the structure is not installed and lookups keep using the
 * boot view; the pages already taken are not given back (the caller
 * cannot boot on without a p2m).
 */
#include "p2m_internal.h"

unsigned long p2m_built_size, p2m_boot_pages;

/* The build's parameters, while it runs. */
static const struct p2m_build *boot;

/* What the boot view holds in chunk c. */
static enum p2m_kind classify_chunk(unsigned long c)
{
    unsigned long pfn = c * P2M_PER_PAGE, i, e, ident = 0, missing = 0;

    if ( pfn >= boot->size )
        return p2m_unwritten_kind();
    for ( i = 0; i < P2M_PER_PAGE; i++ )
    {
        e = boot->boot_entry(pfn + i);
        if ( e == INVALID_P2M_ENTRY )
            missing++;
        else if ( e == IDENTITY_FRAME(pfn + i) )
            ident++;
        else
            return KIND_REAL;
    }
    return ident == P2M_PER_PAGE ? KIND_IDENTITY :
           missing == P2M_PER_PAGE ? KIND_MISSING : KIND_REAL;
}

/* One kind for n chunks from c0, or KIND_REAL if they differ. */
static enum p2m_kind classify_range(unsigned long c0, unsigned long n)
{
    unsigned long c, end = MIN(c0 + n, CHUNK_OF(ROUNDUP(boot->size,
                                                         P2M_PER_PAGE)));
    enum p2m_kind first = p2m_unwritten_kind(), k;

    for ( c = c0; c < end; c++ )
    {
        k = classify_chunk(c);
        if ( k == KIND_REAL || (c > c0 && k != first) )
            return KIND_REAL;
        first = k;
    }
    /* Chunks past the size hold what is unwritten. */
    return (end < c0 + n && first != p2m_unwritten_kind()) ? KIND_REAL
                                                           : first;
}

/* A new private leaf holding chunk c as the boot view has it. */
static mfn_t leaf_from_boot(unsigned long c)
{
    unsigned long *va, i;
    mfn_t leaf = p2m_be_page_alloc(&va);

    if ( mfn_eq(leaf, INVALID_MFN) )
        return leaf;
    for ( i = 0; i < P2M_PER_PAGE; i++ )
        va[i] = boot->boot_entry(c * P2M_PER_PAGE + i);
    return leaf;
}

/* Chunks under one entry of a level-`level` table. */
static unsigned long chunks_per_entry(unsigned int level)
{
    return level == 1 ? 1 : level == 2 ? CHUNKS_PER_GIG : CHUNKS_PER_L2;
}

/* The shared page of kind k that an entry of a level-`level` table names. */
static mfn_t shared_below(unsigned int level, enum p2m_kind k)
{
    return level == 1 ? p2m_shared_leaf(k) :
           level == 2 ? p2m_shared_l1(k) : p2m_shared_l2(k);
}

/*
 * The level-`level` table whose entries are positions first .. first +
 * 511 of that level (chunks for an L1, GiBs for an L2, 512 GiBs for the
 * L3): each entry the shared page of its kind, or a private page built
 * below it.  INVALID_MFN if a page was short.
 */
static mfn_t build_table(unsigned int level, unsigned long first)
{
    mfn_t t = p2m_be_table_alloc(level, INVALID_MFN, false), child;
    unsigned long pos, n = chunks_per_entry(level);
    enum p2m_kind k;
    int rc = 0;

    if ( mfn_eq(t, INVALID_MFN) )
        return t;
    for ( pos = first; !rc && pos < first + P2M_PER_PAGE; pos++ )
    {
        k = level == 1 ? classify_chunk(pos) : classify_range(pos * n, n);
        if ( k != KIND_REAL )
            child = shared_below(level, k);
        else if ( level == 1 )
            child = leaf_from_boot(pos);
        else
            child = build_table(level - 1, pos * P2M_PER_PAGE);
        rc = mfn_eq(child, INVALID_MFN) ? -XEN_ENOMEM :
             p2m_be_set_entry(t, level, pos, child,
                              level == 1 && k == KIND_REAL);
    }
    if ( !rc )
        rc = p2m_be_table_seal(t, level);
    return rc ? INVALID_MFN : t;
}

static int check_build(const struct p2m_build *b)
{
    if ( !b->size || b->size > P2M_MAX_PFNS || !b->boot_entry )
    {
        p2m_be_log("p2m_build: %#lx pfns%s: the p2m can have 1 to %#lx, "
                   "and needs a boot view\n", b->size,
                   b->boot_entry ? "" : " without a boot view", P2M_MAX_PFNS);
        return -XEN_EINVAL;
    }
    if ( p2m_size )
    {
        p2m_be_log("p2m_build: the linear p2m exists already\n");
        return -XEN_EEXIST;
    }
    return 0;
}

int p2m_build(const struct p2m_build *b)
{
    int rc = check_build(b), end_rc;

    if ( rc )
        return rc;
    boot = b;
    p2m_set_unwritten(b->unwritten_identity);
    p2m_be_batch_begin();
    rc = p2m_shared_build();
    if ( !rc )
    {
        p2m_shared.l3 = build_table(3, 0);
        rc = mfn_eq(p2m_shared.l3, INVALID_MFN)
             ? -XEN_ENOMEM : p2m_be_install(p2m_shared.l3);
    }
    end_rc = p2m_be_batch_end();
    boot = NULL;
    rc = rc ? rc : end_rc;
    if ( rc )
    {
        p2m_be_log("p2m_build: %lu pfns: %d\n", b->size, rc);
        return rc;
    }
    p2m_size = p2m_built_size = ROUNDUP(b->size, P2M_PER_PAGE);
    p2m_nr_populated = b->populated;
    p2m_boot_pages = b->nr_pages;
    p2m_lookup_set_resolver(p2m_linear_resolve);
    return 0;
}
