/*
 * pfn <-> mfn, from the domain builder's mfn_list.
 *
 * mfn_list[pfn] is the machine frame of pfn for every pfn < nr_pages.
 * The M2P (machine_to_phys_mapping, read-only at HYPERVISOR_VIRT_START)
 * answers the other way for any mfn Xen knows, including frames of other
 * domains; mfn_to_pfn() only trusts an answer that maps back to the same
 * mfn, so a foreign or bogus mfn gives INVALID_PFN, never a wrong pfn.
 */
#include <pvmm/p2m.h>
#include <pvmm/hypercall.h>
#include <pvmm/panic.h>

static const unsigned long *boot_list;
static unsigned long nr_pfns;
static unsigned long max_mfn;

void p2m_init(const start_info_t *si)
{
    struct xen_machphys_mapping m2p;
    long rc = HYPERVISOR_memory_op(XENMEM_machphys_mapping, &m2p);

    if ( rc )
        panic("XENMEM_machphys_mapping failed: %ld", rc);
    max_mfn = m2p.max_mfn;
    boot_list = (const unsigned long *)si->mfn_list;
    nr_pfns = si->nr_pages;
}

mfn_t pfn_to_mfn(pfn_t pfn)
{
    if ( pfn_x(pfn) >= nr_pfns )
        return INVALID_MFN;
    return _mfn(boot_list[pfn_x(pfn)]);
}

pfn_t mfn_to_pfn(mfn_t mfn)
{
    unsigned long pfn;

    if ( mfn_x(mfn) > max_mfn )
        return INVALID_PFN;
    pfn = machine_to_phys_mapping[mfn_x(mfn)];
    if ( !mfn_eq(pfn_to_mfn(_pfn(pfn)), mfn) )
        return INVALID_PFN;
    return _pfn(pfn);
}
