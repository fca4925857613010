/*
 * Lazy MMU mode: between mmu_lazy_begin() and mmu_lazy_end(), writes to
 * pinned pagetables (pt_set_entry) stay in the multicall batch instead of
 * being issued one by one; mmu_lazy_end() issues them together.
 *
 * Structure: one nesting depth; only the outermost end flushes the batch.
 * Who calls it: the pagetable code (to know whether to issue at once)
 * and anyone batching pagetable updates (the direct map, the p2m, tests).
 * The depth is per vCPU, like the multicall batch it governs, so it needs
 * no lock.
 */
#include <pvmm/mmu_lazy.h>
#include <pvmm/multicall.h>
#include <pvmm/smp.h>

static unsigned int lazy_depth[SMP_MAX_VCPUS];

void mmu_lazy_begin(void)
{
    lazy_depth[smp_vcpu_id()]++;
}

int mmu_lazy_end(void)
{
    unsigned int *depth = &lazy_depth[smp_vcpu_id()];

    if ( *depth && --*depth )
        return 0;
    return mc_flush();
}

bool mmu_lazy_active(void)
{
    return lazy_depth[smp_vcpu_id()] != 0;
}
