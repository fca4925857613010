/*
 * Suspend and resume (docs/suspend.md has the why of each step).
 *
 * Down, in the order the tools need:
 *   0. every secondary vCPU goes down (the tools save only vCPUs that are
 *      up, and the doorbells do not survive a restore);
 *   1. mm pins every tree that is not pinned (the tools rewrite mfns only
 *      inside pinned tables) and checks PMAP;
 *   2. the console is drained, so nothing written is lost;
 *   3. shared_info, Xen's page, is unmapped: the tools refuse to save a
 *      pagetable that maps a frame the domain does not own;
 *   4. start_info's store and console frames become pfns: the restoring
 *      tools read them as pfns and write the new mfns back;
 *   5. mm turns every mfn it caches into a pfn;
 *   6. SCHEDOP_shutdown(SHUTDOWN_suspend), with start_info's mfn in the
 *      third argument register, where the tools read it.
 * The hypercall returns 1 if the suspend was cancelled (the same domain,
 * the same frames) and 0 in a new domain.  Up:
 *   7. shared_info mapped again (start_info names the new one);
 *   8. mm re-derives its mfns, publishes the p2m again and unpins what
 *      step 1 pinned;
 *   9. cancelled: the start_info fields back to mfns (a restore wrote the
 *      new ones itself);
 *  10. console and xenstore on their (new) event channels, xenstore's
 *      watches registered again;
 *  11. the secondaries that were up come back (from scratch in a new
 *      domain: context and doorbells).
 */
#include <pvmm/suspend.h>
#include <pvmm/shared_info.h>
#include <pvmm/console.h>
#include <pvmm/xenstore.h>
#include <pvmm/events.h>
#include <pvmm/hypercall.h>
#include <pvmm/p2m.h>
#include <pvmm/layout.h>
#include <pvmm/printk.h>
#include <pvmm/panic.h>
#include <pvmm/time.h>
#include <pvmm/smp.h>

static unsigned long resumes;
static struct suspend_report last;
static bool have_last;

unsigned long suspend_count(void)
{
    return resumes;
}

const struct suspend_report *suspend_last(void)
{
    return have_last ? &last : NULL;
}

/* Step 4 and its undo: start_info's own frames, as pfns or as mfns. */
static void start_info_frames_to_pfns(start_info_t *si)
{
    si->store_mfn = pfn_x(mfn_to_pfn(_mfn(si->store_mfn)));
    si->console.domU.mfn = pfn_x(mfn_to_pfn(_mfn(si->console.domU.mfn)));
}

static void start_info_frames_to_mfns(start_info_t *si)
{
    si->store_mfn = mfn_x(pfn_to_mfn(_pfn(si->store_mfn)));
    si->console.domU.mfn = mfn_x(pfn_to_mfn(_pfn(si->console.domU.mfn)));
}

/* Steps 4-6, shared_info unmapped; returns what the hypercall returned. */
static long suspend_hypercall(struct suspend_report *r)
{
    struct sched_shutdown arg = { .reason = SHUTDOWN_suspend };

    start_info_frames_to_pfns(xen_start_info);
    mm_suspend_enter();
    return hypercall3(__HYPERVISOR_sched_op, SCHEDOP_shutdown, &arg,
                      r->start_info_mfn);
}

/* Steps 7-10. */
static void resume(struct suspend_report *r)
{
    start_info_t *si = xen_start_info;
    int rc;

    uint64_t t0;

    if ( (rc = shared_info_remap()) != 0 )
        panic("resume: cannot map shared_info at %#lx: %d",
              si->shared_info, rc);
    smp_resume_info(r->new_domain); /* the clock reads vcpu_info */
    t0 = time_now_ns();             /* the first moment there is a clock */
    mm_resume(&r->mm);
    if ( !r->new_domain )
        start_info_frames_to_mfns(si);
    else
        evtchn_unbind_all();
    cons_resume(si);
    r->xenstore_rc = xs_resume(si, r->new_domain);
    r->shared_info_new = si->shared_info;
    r->store_port_new = si->store_evtchn;
    r->console_port_new = si->console.domU.evtchn;
    r->vcpus_back = smp_resume(r->vcpus_down, r->new_domain);
    r->up_ns = time_now_ns() - t0;
}

void suspend_domain(struct suspend_report *r)
{
    uint64_t t0 = time_now_ns();
    long rc;

    *r = (struct suspend_report){
        .shared_info_old = xen_start_info->shared_info,
        .store_port_old = xen_start_info->store_evtchn,
        .console_port_old = xen_start_info->console.domU.evtchn,
    };
    if ( (r->rc = smp_suspend(&r->vcpus_down)) != 0 )
    {
        printk("suspend: the secondary vCPUs cannot go down: %d; not "
               "suspending\n", r->rc);
        return;
    }
    if ( (r->rc = mm_suspend_prepare()) != 0 )
    {
        printk("suspend: mm cannot be saved as it is: %d; not suspending\n",
               r->rc);
        (void)smp_resume(r->vcpus_down, false);
        return;
    }
    r->start_info_mfn = mfn_x(pfn_to_mfn(boot_va_to_pfn(xen_start_info)));
    printk("suspend: suspending (start_info mfn %#lx)\n", r->start_info_mfn);
    (void)cons_flush(CONS_RING_WAIT_NS);
    r->down_ns = time_now_ns() - t0;
    if ( (r->rc = shared_info_unmap()) != 0 )
    {
        mm_suspend_abort();
        (void)smp_resume(r->vcpus_down, false);
        printk("suspend: cannot unmap shared_info: %d; not suspending\n",
               r->rc);
        return;
    }
    rc = suspend_hypercall(r);
    /* No printk and no clock until shared_info and mm are back. */
    r->new_domain = rc == 0;
    resume(r);
    if ( rc < 0 )
    {
        r->rc = rc;
        printk("suspend: Xen refused SHUTDOWN_suspend: %ld\n", rc);
        return;
    }
    resumes++;
    last = *r;
    have_last = true;
}
