/*
 * Event channels, 2-level ABI, polled.
 *
 * Xen sets a port's bit in shared_info->evtchn_pending and, unless the
 * port is masked, the word's bit in vcpu_info->evtchn_pending_sel and
 * evtchn_upcall_pending.  pvmm never takes the upcall (vcpu 0's upcall
 * mask stays set, arch/x86/traps.c acknowledges a stray one): it reads
 * and clears the port's own bit, which is the only state it relies on,
 * so a masked port can be waited on as well as an unmasked one.
 *
 * A wait is SCHEDOP_poll on the one port with Xen's timer as the bound:
 * Xen wakes us when the port becomes pending or the time passes, and we
 * check both ourselves after every return (a poll may end early).
 */
#include <pvmm/events.h>
#include <pvmm/hypercall.h>
#include <pvmm/shared_info.h>
#include <pvmm/time.h>

/* The ABI's reach: one bit per port in 64 words of 64. */
#define NR_PORTS    (sizeof(xen_ulong_t) * 8 * sizeof(xen_ulong_t) * 8)

static struct {
    evtchn_port_t port;
    evtchn_handler_t fn;
    void *ctx;
} handlers[EVTCHN_MAX_HANDLERS];

static xen_ulong_t *word_of(xen_ulong_t *bits, evtchn_port_t port)
{
    return &bits[port / (sizeof(xen_ulong_t) * 8)];
}

static xen_ulong_t bit_of(evtchn_port_t port)
{
    return 1UL << (port % (sizeof(xen_ulong_t) * 8));
}

int evtchn_bind(evtchn_port_t port, evtchn_handler_t fn, void *ctx)
{
    unsigned int i, free = EVTCHN_MAX_HANDLERS;

    if ( port == 0 || port >= NR_PORTS || !fn )
        return -XEN_EINVAL;
    for ( i = 0; i < EVTCHN_MAX_HANDLERS; i++ )
    {
        if ( handlers[i].fn && handlers[i].port == port )
            return -XEN_EEXIST;
        if ( !handlers[i].fn && free == EVTCHN_MAX_HANDLERS )
            free = i;
    }
    if ( free == EVTCHN_MAX_HANDLERS )
        return -XEN_ENOSPC;
    handlers[free].port = port;
    handlers[free].ctx = ctx;
    handlers[free].fn = fn;
    return 0;
}

void evtchn_unbind(evtchn_port_t port)
{
    unsigned int i;

    for ( i = 0; i < EVTCHN_MAX_HANDLERS; i++ )
        if ( handlers[i].fn && handlers[i].port == port )
            handlers[i].fn = NULL;
}

void evtchn_unbind_all(void)
{
    unsigned int i;

    for ( i = 0; i < EVTCHN_MAX_HANDLERS; i++ )
        handlers[i].fn = NULL;
}

int evtchn_send(evtchn_port_t port)
{
    struct evtchn_send send = { .port = port };

    return HYPERVISOR_event_channel_op(EVTCHNOP_send, &send);
}

void evtchn_mask(evtchn_port_t port)
{
    __atomic_or_fetch(word_of(xen_shared_info->evtchn_mask, port),
                      bit_of(port), __ATOMIC_SEQ_CST);
}

int evtchn_unmask(evtchn_port_t port)
{
    struct evtchn_unmask op = { .port = port };

    /* Through Xen: it re-raises an event that came while masked. */
    return HYPERVISOR_event_channel_op(EVTCHNOP_unmask, &op);
}

bool evtchn_test_and_clear(evtchn_port_t port)
{
    xen_ulong_t old;

    if ( port >= NR_PORTS )
        return false;
    old = __atomic_fetch_and(word_of(xen_shared_info->evtchn_pending, port),
                             ~bit_of(port), __ATOMIC_SEQ_CST);
    return old & bit_of(port);
}

int evtchn_wait(evtchn_port_t port, uint64_t deadline_ns)
{
    struct sched_poll poll = { .nr_ports = 1, .timeout = deadline_ns };

    set_xen_guest_handle(poll.ports, &port);
    for ( ; ; )
    {
        if ( evtchn_test_and_clear(port) )
            return 0;
        if ( time_now_ns() >= deadline_ns )
            return -XEN_ETIMEDOUT;
        /* Ends when the port is pending or Xen's timer passes. */
        (void)HYPERVISOR_sched_op(SCHEDOP_poll, &poll);
    }
}

unsigned int evtchn_dispatch(void)
{
    unsigned int i, ran = 0;

    for ( i = 0; i < EVTCHN_MAX_HANDLERS; i++ )
        if ( handlers[i].fn && evtchn_test_and_clear(handlers[i].port) )
        {
            handlers[i].fn(handlers[i].port, handlers[i].ctx);
            ran++;
        }
    return ran;
}
