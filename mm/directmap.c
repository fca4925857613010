/*
 * Building the direct map: pfn p at DIRECTMAP_BASE + p * PAGE_SIZE for
 * every populated p (below frame_total(): as dom0, frames moved out of
 * E820 holes live above nr_pages, and the holes stay unmapped).
 *
 * All its pagetable frames are taken up front as one contiguous run from
 * the early allocator: one L3, then the L2s, then the L1s.  Knowing the
 * run lets every L1 entry be written once, with its final permission: a
 * frame that is a pagetable (the builder's, the fixmap L1, or one of this
 * run) is mapped read-only, everything else read-write; nothing executes.
 *
 * Each page is filled while it is ordinary writable memory (through the
 * builder's mapping or a PMAP slot), then on_pt_alloc makes its aliases
 * read-only, then it is linked top-down into the pinned kernel tree with
 * mmu_update: L3 into the L4, each L2 into the L3, each L1 into its L2.
 * All of it is one batch, so Xen sees one multicall in which the
 * protections come before the links that need them.
 */
#include <pvmm/directmap.h>
#include <pvmm/xen.h>
#include <pvmm/frame.h>
#include <pvmm/frame_map.h>
#include <pvmm/p2m.h>
#include <pvmm/pt.h>
#include <pvmm/mmu_lazy.h>
#include <pvmm/lib.h>

struct directmap_info directmap;

static pfn_t run_pfn(unsigned long i)
{
    return _pfn(pfn_x(directmap.pt_first) + i);
}

static bool is_table(unsigned long pfn, unsigned long run_len)
{
    return (pt_role(_pfn(pfn)) & PT_ROLE_RO) ||
           pfn - pfn_x(directmap.pt_first) < run_len;
}

/* Writes the PT_ENTRIES entries of L1 number j. */
static void fill_l1(unsigned long j, unsigned long nr, unsigned long run_len)
{
    mfn_t l1 = pfn_to_mfn(run_pfn(1 + directmap.nr_l2 + j));
    pte_t *t = pt_map(l1);
    unsigned long k, pfn;

    for ( k = 0; k < PT_ENTRIES; k++ )
    {
        pfn = j * PT_ENTRIES + k;
        if ( pfn >= nr || !p2m_is_populated(_pfn(pfn)) )
            t[k] = 0;               /* no frame: an E820 hole */
        else
            t[k] = pte_from_mfn(pfn_to_mfn(_pfn(pfn)),
                                (is_table(pfn, run_len) ? PTE_KERNEL_RO
                                                         : PTE_KERNEL_RW) |
                                pte_nx);
    }
    pt_unmap(t);
}

static void zero_page(pfn_t pfn)
{
    void *va = pt_map(pfn_to_mfn(pfn));

    memset(va, 0, PAGE_SIZE);
    pt_unmap(va);
}

/* Protects every page of the run, then links them top-down. */
static int link_run(unsigned long run_len)
{
    unsigned long i, j;
    int rc;

    for ( i = 0; i < run_len; i++ )
        on_pt_alloc(run_pfn(i), i == 0 ? 3 : i <= directmap.nr_l2 ? 2 : 1,
                    true);

    rc = pt_set_entry(pt_kernel_root(), pt_index(DIRECTMAP_BASE, 4),
                      pte_from_mfn(pfn_to_mfn(run_pfn(0)), PT_TABLE_FLAGS));
    for ( i = 0; !rc && i < directmap.nr_l2; i++ )
        rc = pt_set_entry(pfn_to_mfn(run_pfn(0)), i,
                          pte_from_mfn(pfn_to_mfn(run_pfn(1 + i)),
                                       PT_TABLE_FLAGS));
    for ( j = 0; !rc && j < directmap.nr_l1; j++ )
        rc = pt_set_entry(pfn_to_mfn(run_pfn(1 + j / PT_ENTRIES)),
                          j % PT_ENTRIES,
                          pte_from_mfn(pfn_to_mfn(run_pfn(1 + directmap.nr_l2
                                                          + j)),
                                       PT_TABLE_FLAGS));
    return rc;
}

int directmap_init(void)
{
    unsigned long nr = frame_total(), run_len, i;
    int rc;

    directmap.nr_l1 = (nr + PT_ENTRIES - 1) / PT_ENTRIES;
    directmap.nr_l2 = (directmap.nr_l1 + PT_ENTRIES - 1) / PT_ENTRIES;
    if ( directmap.nr_l2 > PT_ENTRIES )
        return -XEN_E2BIG;                  /* over 512 GiB: one L3 */
    if ( pt_get_entry(pt_kernel_root(), pt_index(DIRECTMAP_BASE, 4)) )
        return -XEN_EEXIST;

    run_len = 1 + directmap.nr_l2 + directmap.nr_l1;
    directmap.pt_first = frame_alloc_contiguous(run_len);
    if ( pfn_eq(directmap.pt_first, INVALID_PFN) )
        return -XEN_ENOMEM;

    for ( i = 0; i <= directmap.nr_l2; i++ )
        zero_page(run_pfn(i));
    for ( i = 0; i < directmap.nr_l1; i++ )
        fill_l1(i, nr, run_len);
    pt_roles_early_range(directmap.pt_first, run_len);

    mmu_lazy_begin();
    rc = link_run(run_len);
    if ( !rc )
        rc = mmu_lazy_end();
    else
        (void)mmu_lazy_end();
    if ( !rc )
    {
        directmap.nr_pfns = nr;
        fmap_set_directmap_end(nr);
    }
    return rc;
}
