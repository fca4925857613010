/* Reservation hypercalls (xen/memory.c). */
#ifndef PVMM_MEMORY_H
#define PVMM_MEMORY_H

#include <pvmm/types.h>
#include <pvmm/xen.h>

/*
 * cmd is XENMEM_populate_physmap (frames[] holds pfns in, mfns out) or
 * XENMEM_decrease_reservation (frames[] holds mfns) for n order-0
 * extents.  Returns how many extents Xen handled, 0..n, from the start
 * of frames[], or a negative -XEN_E* code; an injected fault
 * (pvmm/inject.h kinds populate, decrease) looks the same.
 */
long xen_reservation_op(unsigned int cmd, xen_pfn_t *frames, unsigned long n);

#endif /* PVMM_MEMORY_H */
