/*
 * XENMEM_populate_physmap and XENMEM_decrease_reservation for order-0
 * extents, with the fault injection of pvmm/inject.h: the one place where
 * a reservation hypercall is made, so that an injected short count or
 * error reaches every caller (the balloon, dom0's hole frames).
 */
#include <pvmm/memory.h>
#include <pvmm/hypercall.h>
#include <pvmm/inject.h>
#include <pvmm/lib.h>

/*
 * An injected fault: Xen handles fewer extents than asked (a short count,
 * as when it runs out), or an error comes back without the call.
 */
static bool inject_short(unsigned int cmd, unsigned long *n, long *rc)
{
    long v;

    if ( !inject_fire(cmd == XENMEM_populate_physmap ? INJECT_POPULATE
                                                      : INJECT_DECREASE, &v) )
        return false;
    if ( v < 0 && v != INJECT_DEFAULT )
    {
        *rc = v;
        return true;
    }
    *n = v == INJECT_DEFAULT ? *n / 2 : MIN(*n, (unsigned long)v);
    return false;
}

long xen_reservation_op(unsigned int cmd, xen_pfn_t *frames, unsigned long n)
{
    struct xen_memory_reservation r = {
        .extent_order = 0,
        .domid = DOMID_SELF,
    };
    long rc;

    if ( inject_short(cmd, &n, &rc) )
        return rc;
    r.nr_extents = n;
    set_xen_guest_handle(r.extent_start, frames);
    return HYPERVISOR_memory_op(cmd, &r);
}
