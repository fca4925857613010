/*
 * The benchmark runner and the helpers the benchmarks share.
 */
#include <pvmm/bench.h>
#include <pvmm/pt.h>
#include <pvmm/mmu_lazy.h>
#include <pvmm/frame.h>
#include <pvmm/p2m_boot.h>
#include <pvmm/multicall.h>
#include <pvmm/printk.h>

static int failures;

void bench_fail(const char *what, int rc)
{
    printk("BENCH-ERROR %s: %d\n", what, rc);
    failures++;
}

int bench_main(void)
{
    printk("BENCH-NOTE cycles are rdtsc under QEMU/TCG: compare ratios "
           "from one boot, not absolute figures\n");
    bench_mm_init();
    bench_p2m();
    bench_p2m_memory();
    bench_pin();
    bench_balloon();
    bench_smp();
    return failures ? -1 : 0;
}

int bench_map_region(unsigned long va, unsigned long npages)
{
    unsigned long i;
    pfn_t pfn;
    int rc = 0;

    mmu_lazy_begin();
    for ( i = 0; i < npages && !rc; i++ )
    {
        pfn = frame_alloc();
        if ( pfn_eq(pfn, INVALID_PFN) )
            rc = -XEN_ENOMEM;
        else
            rc = pt_map_page(pt_kernel_root(), va + i * PAGE_SIZE,
                             pfn_to_mfn(pfn), PTE_KERNEL_RW | pte_nx);
    }
    if ( mmu_lazy_end() && !rc )
        rc = -XEN_EIO;
    return rc;
}

/* Frees a table of the region, and first the pages an L1 maps. */
static int free_region_table(mfn_t mfn, pfn_t pfn, unsigned int level,
                             void *ctx)
{
    unsigned int i;

    for ( i = 0; level == 1 && i < PT_ENTRIES; i++ )
    {
        pte_t e = pt_get_entry(mfn, i);

        if ( e & _PAGE_PRESENT )
            frame_free(mfn_to_pfn(pte_mfn(e)));
    }
    pt_free(mfn);
    return 0;
}

static const struct pt_visit free_region_visit = {
    .fn = free_region_table, .order = PT_WALK_POST,
};

void bench_unmap_region(unsigned long va)
{
    unsigned int slot = pt_index(va, 4);
    pte_t e = pt_get_entry(pt_kernel_root(), slot);

    if ( !(e & _PAGE_PRESENT) )
        return;
    /* Unlinked first: Xen drops its references to the whole subtree. */
    mc_request_tlb_flush();
    if ( pt_set_entry(pt_kernel_root(), slot, 0) )
    {
        bench_fail("unlinking the bench region", -XEN_EIO);
        return;
    }
    pt_walk_tree(pte_mfn(e), 3, &free_region_visit);
}
