/*
 * pvmm's side of the p2m (mm/p2m_boot.c, mm/p2m_e820.c, mm/p2m_pv.c,
 * mm/p2m_pv_audit.c): the boot view that the portable core is built
 * from, the memory map, and the checks that involve the kernel's own
 * mappings.  Boot order: mm/mm.c and docs/design.md, "mm bring-up".
 */
#ifndef PVMM_P2M_BOOT_H
#define PVMM_P2M_BOOT_H

#include <pvmm/p2m_core.h>
#include <pvmm/p2m_tree.h>
#include <pvmm/xen.h>

/* start_info, and Xen's maximum reservation for this domain. */
extern start_info_t *p2m_start_info;
extern unsigned long p2m_max_reservation;

/*
 * Pages for a p2m tree built after boot (a test's or a benchmark's own),
 * from the frame allocator through the direct map.
 */
extern const struct p2m_tree_pages p2m_tree_runtime_pages;

/* Boot, in order (mm/mm.c). */
void p2m_init(start_info_t *si);
void p2m_tree_init(void);
int p2m_e820_init(const start_info_t *si, unsigned long remap_max);
/* Gives back the hole frames that found no RAM pfn (mm/p2m_e820.c). */
int p2m_e820_release(void);
/* How many frames p2m_e820_release() gave back. */
unsigned long p2m_e820_released(void);
void p2m_e820_print(void);
/* The linear p2m from the boot view (p2m_build), checked against Xen's M2P. */
int p2m_revector(void);

/* Before revector: the entry from the tree and the E820 overlay. */
unsigned long p2m_boot_entry(unsigned long pfn);

/* Before revector: one past the highest populated pfn. */
pfn_t p2m_populated_end(void);

/*
 * Every invariant: the core's (p2m_core_audit) and the kernel mappings'
 * (docs/design.md, "Checked by the auditor", 7 and 9); 0 or -1.
 */
int p2m_audit(void);

/* Tree and linear p2m against the builder's list, before it was freed. */
struct p2m_crosscheck {
    unsigned long checked, mismatches;
    unsigned long first_pfn, list, tree, linear;    /* first mismatch */
    /* Where the builder's list was: its pages go back to the allocator. */
    unsigned long list_first_pfn, list_pages;
};
extern struct p2m_crosscheck p2m_crosscheck;

/* The memory map (mm/p2m_e820.c). */
/* Is the whole page of pfn in a RAM range of the memory map? */
bool p2m_e820_is_ram(pfn_t pfn);
bool p2m_e820_is_identity(unsigned long pfn);
/* Is everything past the last RAM range identity (dom0: MMIO)? */
bool p2m_e820_above_ram_is_identity(void);
bool p2m_e820_move_source(unsigned long pfn, unsigned long *source);
unsigned long p2m_e820_ram_end(void);
unsigned long p2m_e820_moved_to(unsigned long pfn);
unsigned long p2m_e820_populated_end(void);

/*
 * The entry of pfn once its frame is gone: identity where the memory map
 * says hole or MMIO (dom0: also everything past the host's RAM), else
 * INVALID_P2M_ENTRY.  The balloon gives a released pfn this.
 */
unsigned long p2m_unpopulated_entry(pfn_t pfn);

#endif /* PVMM_P2M_BOOT_H */
