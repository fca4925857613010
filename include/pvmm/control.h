/*
 * The toolstack's requests (xen/control.c): libxl writes "poweroff",
 * "halt", "reboot" or "suspend" to the domain's control/shutdown node
 * (xl shutdown, xl reboot, xl save) and waits for the guest to clear it.
 * pvmm watches the node, acknowledges a request by writing "" to it, and
 * then acts: SHUTDOWN_poweroff, SHUTDOWN_reboot, or the suspend path
 * (pvmm/suspend.h).  Anything else is logged and ignored.
 *
 * Requests are noticed when control_poll() runs: between tests (the
 * harness calls it), and while the kernel holds (it waits in it).
 * Without xenstore (a dom0 booted by Xen) none come, and control_poll()
 * only waits.
 */
#ifndef PVMM_CONTROL_H
#define PVMM_CONTROL_H

#include <pvmm/types.h>

/* Registers the watch; 0, -XEN_ENODEV without xenstore, or its error. */
int control_init(void);

/*
 * Handles what has come in, waiting for it until deadline_ns
 * (time_now_ns(); 0: do not wait).  Returns after the first event it
 * handled, or at the deadline; how many events it handled.
 */
unsigned int control_poll(uint64_t deadline_ns);

/*
 * A second watch, for the holder: fn(ctx) runs from control_poll() each
 * time path changes (and once when set).  One at a time; 0 or the
 * watch's error.
 */
int control_watch(const char *path, void (*fn)(void *ctx), void *ctx);

/* Called after each resume, from control_poll() (NULL: none). */
void control_on_resume(void (*fn)(void *ctx), void *ctx);

/* Requests handled, and ignored as unknown, since boot. */
struct control_stats {
    unsigned long requests, ignored, suspends_refused;
};
const struct control_stats *control_get_stats(void);

#endif /* PVMM_CONTROL_H */
