/*
 * The shared_info page: Xen's per-domain page with event-channel state,
 * per-vcpu info (cr2, upcall mask, time) and the p2m frame-list anchor.
 */
#ifndef PVMM_SHARED_INFO_H
#define PVMM_SHARED_INFO_H

#include <pvmm/types.h>
#include <pvmm/xen.h>

extern struct shared_info *xen_shared_info;
extern start_info_t *xen_start_info;

/* Maps the page start_info names; panics if Xen refuses. */
void shared_info_init(start_info_t *si);

/*
 * Around a suspend (docs/suspend.md): the page is Xen's, not the domain's,
 * and the tools refuse to save a pagetable that maps a frame the domain
 * does not own.  shared_info_unmap() drops the mapping; shared_info_remap()
 * maps the page start_info names now (a restored domain has a new one).
 * Nothing may read xen_shared_info in between.  0 or Xen's error.
 */
int shared_info_unmap(void);
int shared_info_remap(void);

static inline bool xen_is_dom0(void)
{
    return xen_start_info->flags & SIF_INITDOMAIN;
}

#endif /* PVMM_SHARED_INFO_H */
