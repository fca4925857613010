/*
 * The domain builder's initial area (mm/bootmap.c).
 *
 * Xen's builder maps pfn 0 .. mapped_end-1 at VIRT_BASE + pfn * PAGE_SIZE:
 * the image, then mfn_list, start_info, the bootstrap pagetables and
 * stack, then unused "slack" up to a 4 MiB boundary.  Every pfn in that
 * range has this second alias besides the direct map.
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

/* Finds the area's extent; walks the bootstrap pagetables for its end. */
void bootmap_init(const start_info_t *si);

static inline bool bootmap_covers(pfn_t pfn)
{
    return pfn_x(pfn) < pfn_x(bootmap.mapped_end);
}

/*
 * Maps text read-only, everything else non-executable, and unmaps pfns
 * that lost their frame to the E820 remap; one batch.
 */
int bootmap_protect_image(void);

#endif /* PVMM_BOOTMAP_H */
