/*
 * The domain builder's initial area (mm/bootmap.c, layer 4 of mm).
 *
 * Xen's builder maps pfn 0 .. mapped_end-1 at VIRT_BASE + pfn * PAGE_SIZE:
 * the image, then mfn_list, start_info, the bootstrap pagetables and
 * stack, then unused "slack" up to a 4 MiB boundary.  Every pfn in that
 * range has this second alias besides the direct map.
 *
 * bootmap_init() hands what the layers below need to them: the extent to
 * frame_map.h (bootmap_covers(), boot_pfn_to_va()) and the root to
 * pt_set_kernel_root(); they never read struct bootmap.
 */
#ifndef PVMM_BOOTMAP_H
#define PVMM_BOOTMAP_H

#include <pvmm/types.h>
#include <pvmm/xen.h>

struct bootmap {
    pfn_t used_end;         /* first pfn after everything the builder put */
    pfn_t mapped_end;       /* first pfn the builder did not map */
    mfn_t root;             /* the bootstrap L4: the kernel's tree */
    pfn_t pt_first;         /* bootstrap pagetable frames ... */
    unsigned long pt_count; /* ... a contiguous run */
};

extern struct bootmap bootmap;

/*
 * Finds the area's extent (walking the bootstrap pagetables for its end)
 * and publishes it and the root, as above.
 */
void bootmap_init(const start_info_t *si);

/*
 * Maps text read-only, everything else non-executable, and unmaps pfns
 * that lost their frame to the E820 remap; one batch.
 */
int bootmap_protect_image(void);

#endif /* PVMM_BOOTMAP_H */
