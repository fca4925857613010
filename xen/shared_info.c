/*
 * start_info and shared_info: where the rest of the kernel finds them.
 */
#include <pvmm/shared_info.h>
#include <pvmm/early_map.h>
#include <pvmm/panic.h>
#include <pvmm/hypercall.h>

start_info_t *xen_start_info;
struct shared_info *xen_shared_info;

static uint8_t shared_info_page[PAGE_SIZE]
    __section(".bss.page_aligned") __aligned(PAGE_SIZE);

void shared_info_init(start_info_t *si)
{
    mfn_t mfn = _mfn(si->shared_info >> PAGE_SHIFT);
    int rc;

    xen_start_info = si;
    rc = early_map_mfn(shared_info_page, mfn, PTE_KERNEL_RW);
    if ( rc )
        panic("cannot map shared_info (machine address %#lx): %d",
              si->shared_info, rc);
    xen_shared_info = (struct shared_info *)shared_info_page;
}

int shared_info_unmap(void)
{
    return HYPERVISOR_update_va_mapping((unsigned long)shared_info_page, 0,
                                        UVMF_INVLPG | UVMF_LOCAL);
}

int shared_info_remap(void)
{
    return early_map_mfn(shared_info_page,
                         _mfn(xen_start_info->shared_info >> PAGE_SHIFT),
                         PTE_KERNEL_RW);
}
