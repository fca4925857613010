/*
 * Lazy MMU mode: between mmu_lazy_begin() and mmu_lazy_end(), writes to
 * pinned pagetables (pt_set_entry) stay in the multicall batch instead of
 * being issued one by one; mmu_lazy_end() issues them together.
 *
 * Structure: one nesting depth; only the outermost end flushes the batch.
 * Who calls it: the pagetable code (to know whether to issue at once)
 * and anyone batching pagetable updates (the direct map, the p2m, tests).
 * Not locked: one vcpu.
 */
#include <pvmm/mmu_lazy.h>
#include <pvmm/multicall.h>

static unsigned int lazy_depth;

void mmu_lazy_begin(void)
{
    lazy_depth++;
}

int mmu_lazy_end(void)
{
    if ( lazy_depth && --lazy_depth )
        return 0;
    return mc_flush();
}

bool mmu_lazy_active(void)
{
    return lazy_depth != 0;
}
