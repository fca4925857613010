/*
 * Event channels (xen/events.c): the 2-level ABI's pending and mask bits
 * in shared_info, per-port handlers, and bounded waits.
 *
 * pvmm keeps vcpu 0's upcall mask set: an event is noticed by polling
 * its pending bit, and a wait blocks in Xen (SCHEDOP_poll on the port,
 * with a timeout) instead of spinning.  evtchn_dispatch() runs the
 * handlers of bound ports whose bits are pending; code that waits calls
 * it, so watches and console kicks are handled while anything waits.
 *
 * Every wait has a deadline and says when it passed: -XEN_ETIMEDOUT.
 * Not locked: one vcpu.
 */
#ifndef PVMM_EVENTS_H
#define PVMM_EVENTS_H

#include <pvmm/types.h>
#include <pvmm/xen.h>

/* How many ports may have a handler at once. */
#define EVTCHN_MAX_HANDLERS 8

typedef void (*evtchn_handler_t)(evtchn_port_t port, void *ctx);

/*
 * Runs handler(port, ctx) from evtchn_dispatch() whenever port is
 * pending.  0, -XEN_EINVAL for a port the ABI cannot name, -XEN_EEXIST
 * if it has a handler, -XEN_ENOSPC if every slot is taken.
 */
int evtchn_bind(evtchn_port_t port, evtchn_handler_t handler, void *ctx);
void evtchn_unbind(evtchn_port_t port);
/* A restored domain has none of its old ports: forgets every handler. */
void evtchn_unbind_all(void);

/* EVTCHNOP_send; Xen's error. */
int evtchn_send(evtchn_port_t port);

/* Masks the port; unmasks it with EVTCHNOP_unmask (Xen re-raises it). */
void evtchn_mask(evtchn_port_t port);
int evtchn_unmask(evtchn_port_t port);

/* Was port pending?  Clears the bit (atomically, Xen sets it). */
bool evtchn_test_and_clear(evtchn_port_t port);

/*
 * Returns 0 once port is (or was) pending, clearing it, or -XEN_ETIMEDOUT
 * when time_now_ns() passes deadline_ns; blocks in Xen meanwhile.
 */
int evtchn_wait(evtchn_port_t port, uint64_t deadline_ns);

/* Runs the handlers of the pending bound ports; how many ran. */
unsigned int evtchn_dispatch(void);

#endif /* PVMM_EVENTS_H */
