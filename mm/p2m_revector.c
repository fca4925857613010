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

/* The L1 for GiB g. */
static mfn_t build_l1(unsigned long g)
{
    mfn_t l1 = p2m_be_table_alloc(1, INVALID_MFN, false), leaf;
    unsigned long c;
    enum p2m_kind k;
    int rc = 0;

    if ( mfn_eq(l1, INVALID_MFN) )
        return l1;
    for ( c = g * CHUNKS_PER_GIG; !rc && c < (g + 1) * CHUNKS_PER_GIG; c++ )
    {
        k = classify_chunk(c);
        leaf = k == KIND_REAL ? leaf_from_boot(c) : p2m_shared_leaf(k);
        rc = mfn_eq(leaf, INVALID_MFN) ? -XEN_ENOMEM :
             p2m_be_set_entry(l1, 1, c, leaf, k == KIND_REAL);
    }
    if ( !rc )
        rc = p2m_be_table_seal(l1, 1);
    return rc ? INVALID_MFN : l1;
}

/* The L2 for the 512 GiB h. */
static mfn_t build_l2(unsigned long h)
{
    mfn_t l2 = p2m_be_table_alloc(2, INVALID_MFN, false), l1;
    unsigned long g;
    enum p2m_kind k;
    int rc = 0;

    if ( mfn_eq(l2, INVALID_MFN) )
        return l2;
    for ( g = h * P2M_PER_PAGE; !rc && g < (h + 1) * P2M_PER_PAGE; g++ )
    {
        k = classify_range(g * CHUNKS_PER_GIG, CHUNKS_PER_GIG);
        l1 = k == KIND_REAL ? build_l1(g) : p2m_shared_l1(k);
        rc = mfn_eq(l1, INVALID_MFN) ? -XEN_ENOMEM :
             p2m_be_set_entry(l2, 2, g, l1, false);
    }
    if ( !rc )
        rc = p2m_be_table_seal(l2, 2);
    return rc ? INVALID_MFN : l2;
}

/* The L3, every entry present; INVALID_MFN if a page was short. */
static mfn_t build_l3(void)
{
    mfn_t l3 = p2m_be_table_alloc(3, INVALID_MFN, false), l2;
    unsigned long h;
    enum p2m_kind k;
    int rc = 0;

    if ( mfn_eq(l3, INVALID_MFN) )
        return l3;
    for ( h = 0; !rc && h < P2M_PER_PAGE; h++ )
    {
        k = classify_range(h * CHUNKS_PER_L2, CHUNKS_PER_L2);
        l2 = k == KIND_REAL ? build_l2(h) : p2m_shared_l2(k);
        rc = mfn_eq(l2, INVALID_MFN) ? -XEN_ENOMEM :
             p2m_be_set_entry(l3, 3, h, l2, false);
    }
    if ( !rc )
        rc = p2m_be_table_seal(l3, 3);
    return rc ? INVALID_MFN : l3;
}

static int check_build(const struct p2m_build *b)
{
    if ( p2m_size )
    {
        p2m_be_log("p2m_build: the linear p2m exists already\n");
        return -XEN_EEXIST;
    }
    if ( !b->size || b->size > P2M_MAX_PFNS || !b->boot_entry )
    {
        p2m_be_log("p2m_build: %#lx pfns: not a size the p2m can have "
                   "(1 to %#lx)\n", b->size, P2M_MAX_PFNS);
        return -XEN_EINVAL;
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
        p2m_shared.l3 = build_l3();
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
