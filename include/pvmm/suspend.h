/*
 * Suspending the domain for the toolstack (xen/suspend.c), as `xl save`
 * asks through control/shutdown = "suspend" (xen/control.c), and coming
 * back: in a new domain on new machine frames (`xl restore`), or in the
 * same one when the suspend was cancelled (`xl save -c`, a checkpoint).
 * docs/suspend.md gives the order of operations and why each exists.
 */
#ifndef PVMM_SUSPEND_H
#define PVMM_SUSPEND_H

#include <pvmm/types.h>
#include <pvmm/mm.h>

struct suspend_report {
    int rc;                         /* 0, or why nothing was suspended */
    bool new_domain;                /* restored (yes) or cancelled (no) */
    unsigned long start_info_mfn;   /* before the suspend */
    unsigned long shared_info_old, shared_info_new;     /* machine addr */
    evtchn_port_t store_port_old, store_port_new;
    evtchn_port_t console_port_old, console_port_new;
    int xenstore_rc;                /* re-registering the watches */
    struct mm_resume_stats mm;
    unsigned long vcpus_down;       /* secondaries taken down: bit per id */
    unsigned int vcpus_back;        /* ... and brought back after */
    uint64_t down_ns;               /* from the request to the hypercall */
    uint64_t up_ns;                 /* from its return to all reconnected */
};

/*
 * Suspends the domain and returns once it runs again, with everything
 * reconnected, or without suspending (r->rc < 0: a tree that Xen would
 * not pin, a PMAP slot on a foreign frame, Xen refusing the hypercall).
 * Every resume counts in suspend_count().
 */
void suspend_domain(struct suspend_report *r);

/* Resumes so far (restores and cancelled suspends). */
unsigned long suspend_count(void);
/* The last completed suspend's report; NULL before the first. */
const struct suspend_report *suspend_last(void);

#endif /* PVMM_SUSPEND_H */
