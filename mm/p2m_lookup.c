/*
 * p2m lookups: the slow path behind p2m_get_entry(), and mfn_to_pfn().
 *
 * Layer 1 of mm/: it only reads, and depends on nothing of mm/ above
 * it.  The fast path (include/pvmm/p2m.h) is one load for pfn < p2m_size;
 * everything else comes here and goes to the resolver the layer that
 * built the current structure installed: the boot view before the
 * revector, the linear p2m's after it.  That inversion is what lets the
 * allocator and the pagetables (layers 2 and 3) translate while the p2m
 * builders (layer 4) use them.
 *
 * Portable: it includes only <pvmm/p2m.h>, and the host fuzzer and
 * benchmarks (tests/host/) compile it unchanged.  Reading the M2P is the
 * kernel's part: pvmm's is mm/p2m_m2p.c.
 *
 * Lock-free on any vCPU: the fast path is one load, the slow path a
 * seqlock read (p2m_linear_resolve, docs/concurrency.md).
 */
#include <pvmm/p2m.h>

unsigned long p2m_size;

static p2m_resolver_t resolver;

void p2m_lookup_set_resolver(p2m_resolver_t resolve)
{
    resolver = resolve;
}

unsigned long p2m_lookup_slow(pfn_t pfn)
{
    return resolver ? resolver(pfn_x(pfn)) : INVALID_P2M_ENTRY;
}

/*
 * The M2P's answer, believed only if the p2m agrees.  An mfn the M2P
 * does not map back (MMIO, a machine hole) may still be a pfn of ours:
 * an identity pfn, whose "mfn" is the pfn itself.
 */
pfn_t mfn_to_pfn(mfn_t mfn)
{
    unsigned long pfn = p2m_m2p_raw(mfn), m = mfn_x(mfn);

    if ( pfn != ~0UL && p2m_get_entry(_pfn(pfn)) == m )
        return _pfn(pfn);
    if ( m < P2M_MAX_PFNS && p2m_get_entry(_pfn(m)) == IDENTITY_FRAME(m) )
        return _pfn(m);
    return INVALID_PFN;
}
