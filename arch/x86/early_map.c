/*
 * Early mappings: a page reserved in the image's .bss is re-pointed at a
 * machine frame Xen gave us (shared_info, the console ring) with one
 * update_va_mapping.  The builder's pagetables already cover the image, so
 * no pagetable page has to be allocated; the frame that backed the .bss
 * page simply loses its only mapping.  These are data pages: never
 * executable.
 */
#include <pvmm/early_map.h>
#include <pvmm/hypercall.h>

int early_map_mfn(void *va, mfn_t mfn, uint64_t flags)
{
    return HYPERVISOR_update_va_mapping((unsigned long)va,
                                        pte_from_mfn(mfn, flags | pte_nx),
                                        UVMF_INVLPG | UVMF_LOCAL);
}
