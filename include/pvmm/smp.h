/*
 * Secondary vCPUs (arch/x86/smp.c): the per-vCPU data every vCPU reaches
 * through its GS base, bringing a vCPU up with VCPUOP_initialise and
 * VCPUOP_up, taking it down, and running a function on it.
 *
 * A secondary vCPU runs what smp_call() gives it, rung by an IPI event
 * channel and polled with events masked; the call may use mm and print
 * (docs/concurrency.md).  docs/smp.md says what is done and what is not.
 */
#ifndef PVMM_SMP_H
#define PVMM_SMP_H

#include <pvmm/types.h>
#include <pvmm/xen.h>

#define SMP_MAX_VCPUS   8
#define SMP_STACK_SIZE  (16 * 1024)

/* How long smp_start() waits for a vCPU to reach its loop. */
#define SMP_START_TIMEOUT_NS    (5 * 1000000000UL)
/* An idle secondary re-reads its mailbox at least this often. */
#define SMP_IDLE_POLL_NS        (1000000000UL)

/* Sets vCPU 0's GS base to its per-vCPU data; first thing at boot. */
void smp_init_boot_vcpu(void);

/*
 * Counts the vCPUs Xen gave this domain (VCPUOP_is_up answers for each
 * one that exists); at most SMP_MAX_VCPUS, and says so if Xen has more.
 */
void smp_init(void);
unsigned int smp_nr_vcpus(void);

/* The calling vCPU's id, from its per-vCPU data. */
unsigned int smp_vcpu_id(void);

/*
 * vCPU id's vcpu_info: the area registered for it with
 * VCPUOP_register_vcpu_info, or its slot in shared_info before that or
 * if Xen refused.  smp_register_vcpu_info() registers every vCPU's, once
 * the p2m can name the frames (after mm_init), with the others down.
 */
struct vcpu_info *smp_vcpu_info(unsigned int id);
void smp_register_vcpu_info(void);

/* After a resume: a restored domain registers every vcpu_info again. */
void smp_resume_info(bool new_domain);

/*
 * Brings vCPU id up: VCPUOP_initialise the first time (a stack, a GDT
 * page made read-only, this kernel's root pagetable, trap table and
 * callbacks, events masked), then VCPUOP_up, and waits until it runs its
 * loop.  0; -XEN_EINVAL for vCPU 0 or an id Xen did not give;
 * -XEN_ETIMEDOUT if it never reached its loop; or Xen's error.
 */
int smp_start(unsigned int id);

/* The frame of vCPU id's GDT page (read-only once it was started). */
mfn_t smp_gdt_frame(unsigned int id);

/*
 * VCPUOP_down for vCPU id, and waits until Xen's runstate says offline.
 * 0; -XEN_EINVAL if it is not running; -XEN_EBUSY in the middle of a
 * call; -XEN_ETIMEDOUT if it never went offline; or Xen's error.
 */
int smp_stop(unsigned int id);

/*
 * Runs fn(arg) on vCPU id and waits at most timeout_ns for it to finish.
 * 0; -XEN_EINVAL if id is not a started secondary; -XEN_EBUSY if a call
 * posted earlier has not finished; -XEN_ETIMEDOUT if fn did not finish in
 * time (the vCPU is stuck: nothing more is sent to it).
 */
int smp_call(unsigned int id, void (*fn)(void *arg), void *arg,
             uint64_t timeout_ns);

/*
 * The same in two halves, so that vCPU 0 can work while vCPU id runs fn:
 * smp_post() posts and rings (errors as smp_call's, and Xen's if the
 * ring fails), smp_wait() waits for the call posted last.
 */
int smp_post(unsigned int id, void (*fn)(void *arg), void *arg);
int smp_wait(unsigned int id, uint64_t timeout_ns);

/*
 * smp_post() where the caller must tell "not now" from a failure: it
 * posts only to an idle running secondary (SMP_POSTED), says SMP_BUSY
 * for one in a call (a stuck one too) and SMP_NOT_RUNNING for one that
 * is not running, or returns Xen's error from the ring.
 */
enum { SMP_POSTED, SMP_BUSY, SMP_NOT_RUNNING };
int smp_try_post(unsigned int id, void (*fn)(void *arg), void *arg);

/*
 * Around a suspend: smp_suspend() takes every running secondary down
 * (which ones go to *was_up; an error if one is in the middle of a call,
 * and then none is down); smp_resume() brings them back, re-initialised
 * and with new doorbells in a new domain.  It returns how many came back.
 */
int smp_suspend(unsigned long *was_up);
unsigned int smp_resume(unsigned long was_up, bool new_domain);

/* vCPUs running now, vCPU 0 included. */
unsigned int smp_nr_running(void);

/*
 * Parking (arch/x86/smp_park.c), for work that must see nothing change:
 * smp_quiesce() returns once every running secondary is parked (idle ones
 * get a parking call; a busy one parks at its next smp_park_point()), or
 * -XEN_ETIMEDOUT after releasing them; smp_unquiesce() releases them.
 * vCPU 0 only.  Long-running calls reach smp_park_point() between steps.
 */
int smp_quiesce(uint64_t timeout_ns);
void smp_unquiesce(void);
void smp_park_point(void);

/*
 * The IPI event channel that rings vCPU id's doorbell (bound to it with
 * EVTCHNOP_bind_ipi), or 0 if it was never started.  For tests.
 */
evtchn_port_t smp_call_port(unsigned int id);

#endif /* PVMM_SMP_H */
