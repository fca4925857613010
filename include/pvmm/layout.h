/*
 * The virtual memory map, in one place (see docs/ for the picture).
 *
 * Usable from C and assembly.
 */
#ifndef PVMM_LAYOUT_H
#define PVMM_LAYOUT_H

/* Kernel image and the domain builder's initial area (-mcmodel=kernel). */
#define VIRT_BASE           0xffffffff80000000

/* Size of the boot stack in .bss. */
#define BOOT_STACK_SIZE     (16 * 1024)

#ifndef __ASSEMBLY__
#include <pvmm/types.h>
#include <pvmm/pte.h>

/*
 * The direct map: pfn p of pseudo-physical memory at DIRECTMAP_BASE +
 * p * PAGE_SIZE, 4 KiB pages, L4 slot 273 (Xen owns 256-271, and 272 is
 * the end of Xen's area for PV guests).
 */
#define DIRECTMAP_BASE      0xffff888000000000UL

/*
 * The linear p2m: p2m[pfn] at P2M_BASE + pfn * 8, L4 slot 402.  The whole
 * slot (512 GiB of VA, 2^36 pfns) is reserved, so growing the p2m never
 * moves it (mm/p2m.c).
 */
#ifndef P2M_BASE            /* the host tests (tests/host/) map it elsewhere */
#define P2M_BASE            0xffffc90000000000UL
#endif

/*
 * Fixed mappings: one L1 page's worth of slots at the top of the 1 GiB
 * the kernel image lives in.  Only one new pagetable page is needed (the
 * builder's L2 for VIRT_BASE is reused), and the image never grows near it.
 */
#define FIXMAP_BASE         (VIRT_BASE + (1UL << 30) - (2UL << 20))
#define FIXMAP_SLOTS        PT_ENTRIES
#define FIXMAP_PMAP_FIRST   0       /* PMAP: slots 0 .. PMAP_SLOTS-1 */

static inline void *fixmap_va(unsigned int slot)
{
    return (void *)(FIXMAP_BASE + ((unsigned long)slot << PAGE_SHIFT));
}

extern char _text[], _etext[], _rodata[], _erodata[], _data[];
extern char __bss_start[], __bss_end[], _end[];

/*
 * The builder maps pfn i of its initial area at VIRT_BASE + i * PAGE_SIZE,
 * and the image starts at pfn 0 (PADDR_OFFSET is 0).  These two are valid
 * only for addresses inside that area (bootmap_covers(), frame_map.h).
 */
static inline pfn_t boot_va_to_pfn(const void *va)
{
    return _pfn(((unsigned long)va - VIRT_BASE) >> PAGE_SHIFT);
}

static inline void *boot_pfn_to_va(pfn_t pfn)
{
    return (void *)(VIRT_BASE + (pfn_x(pfn) << PAGE_SHIFT));
}

/*
 * Where the direct map puts pfn.  Only the address: whether the direct
 * map covers pfn yet is directmap_covers() (include/pvmm/frame_map.h).
 */
static inline void *directmap_va(pfn_t pfn)
{
    return (void *)(DIRECTMAP_BASE + (pfn_x(pfn) << PAGE_SHIFT));
}
#endif

#endif /* PVMM_LAYOUT_H */
