/*
 * pvmm's M2P reader for the lookups of mm/p2m_lookup.c: Xen's read-only
 * machine_to_phys_mapping, bounded by the extent Xen reports.
 *
 * Layer 1 of mm/, module p2m.  Not portable (hypercalls and the exception
 * table): a port supplies its own p2m_m2p_raw() over its own M2P mapping
 * (tests/host/ uses an array).
 */
#include <pvmm/p2m.h>
#include <pvmm/hypercall.h>
#include <pvmm/panic.h>
#include <pvmm/traps.h>

static unsigned long max_mfn;

void p2m_lookup_init(void)
{
    struct xen_machphys_mapping m2p;
    long rc = HYPERVISOR_memory_op(XENMEM_machphys_mapping, &m2p);

    if ( rc )
        panic("XENMEM_machphys_mapping failed: %ld", rc);
    max_mfn = m2p.max_mfn;
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
