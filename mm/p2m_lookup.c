/*
 * p2m lookups: the slow path behind p2m_get_entry(), and the M2P.
 *
 * Layer 1 of mm/: it only reads, and depends on nothing of mm/ above
 * it.  The fast path (include/pvmm/p2m.h) is one load for pfn < p2m_size;
 * everything else comes here and goes to the resolver the layer that
 * built the current structure installed: the boot view before the
 * revector, the linear p2m's after it.  That inversion is what lets the
 * allocator and the pagetables (layers 2 and 3) translate while the p2m
 * builders (layer 4) use them.
 *
 * Not locked: one vcpu.
 */
#include <pvmm/p2m.h>
#include <pvmm/hypercall.h>
#include <pvmm/panic.h>
#include <pvmm/traps.h>

unsigned long p2m_size;

static p2m_resolver_t resolver;
static unsigned long max_mfn;

void p2m_lookup_init(void)
{
    struct xen_machphys_mapping m2p;
    long rc = HYPERVISOR_memory_op(XENMEM_machphys_mapping, &m2p);

    if ( rc )
        panic("XENMEM_machphys_mapping failed: %ld", rc);
    max_mfn = m2p.max_mfn;
}

void p2m_lookup_set_resolver(p2m_resolver_t resolve)
{
    resolver = resolve;
}

unsigned long p2m_lookup_slow(pfn_t pfn)
{
    return resolver ? resolver(pfn_x(pfn)) : INVALID_P2M_ENTRY;
}

/*
 * Xen maps the M2P only where there is machine memory: the entry of an
 * mfn in a machine hole (the PCI hole, say) is an unmapped page, so it is
 * read through the exception table rather than trusted to be there.
 */
unsigned long p2m_m2p_raw(mfn_t mfn)
{
    struct exc_fault fault;
    uint64_t pfn;

    if ( mfn_x(mfn) > max_mfn ||
         exc_probe_read(&machine_to_phys_mapping[mfn_x(mfn)], &pfn, &fault) )
        return ~0UL;
    return pfn;
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
