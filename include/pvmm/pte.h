/*
 * x86-64 page-table entry bits, and building an entry from a machine frame.
 * Pagetable entries hold machine frame numbers: a PV guest's pagetables are
 * read by the real MMU.
 */
#ifndef PVMM_PTE_H
#define PVMM_PTE_H

#include <pvmm/types.h>

#define _PAGE_PRESENT   (1UL << 0)
#define _PAGE_RW        (1UL << 1)
#define _PAGE_USER      (1UL << 2)
#define _PAGE_ACCESSED  (1UL << 5)
#define _PAGE_DIRTY     (1UL << 6)
#define _PAGE_PSE       (1UL << 7)
#define _PAGE_NX        (1UL << 63)

#define PTE_ADDR_MASK   0x000ffffffffff000UL

/* Entries in a pagetable page, at every level (4 KiB / 8 bytes). */
#define PT_ENTRIES      512

/*
 * 1 GiB of pfns (PT_ENTRIES * PT_ENTRIES): as many p2m entries as one L2
 * entry of the linear p2m maps (one L1 of leaves).
 */
#define GIB_PFNS        (1UL << 18)

/* Present, accessed and dirty preset so the MMU never writes them back. */
#define PTE_KERNEL_RO   (_PAGE_PRESENT | _PAGE_ACCESSED | _PAGE_DIRTY)
#define PTE_KERNEL_RW   (PTE_KERNEL_RO | _PAGE_RW)

typedef uint64_t pte_t;

/* _PAGE_NX if the CPU supports no-execute, else 0 (arch/x86/cpu.c). */
extern uint64_t pte_nx;

static inline pte_t pte_from_mfn(mfn_t mfn, uint64_t flags)
{
    return (mfn_x(mfn) << PAGE_SHIFT) | flags;
}

static inline mfn_t pte_mfn(pte_t pte)
{
    return _mfn((pte & PTE_ADDR_MASK) >> PAGE_SHIFT);
}

#endif /* PVMM_PTE_H */
