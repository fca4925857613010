/*
 * Lazy MMU mode (mm/mmu_lazy.c): between mmu_lazy_begin() and
 * mmu_lazy_end(), updates to pinned pagetables stay in the multicall batch
 * instead of being issued one by one; mmu_lazy_end() issues them together.
 * Nests: only the outermost end issues.
 *
 * Layer 0 of mm (mm/LAYERS): it knows only the multicall batch, so the
 * pagetable code and anything below it may use it.
 */
#ifndef PVMM_MMU_LAZY_H
#define PVMM_MMU_LAZY_H

#include <pvmm/types.h>

void mmu_lazy_begin(void);
/* 0, or the error of the batch it issued. */
int mmu_lazy_end(void);
bool mmu_lazy_active(void);

#endif /* PVMM_MMU_LAZY_H */
