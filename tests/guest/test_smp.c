/*
 * Secondary vCPUs (arch/x86/smp.c), checked against Xen: VCPUOP_is_up
 * and the runstate say whether a vCPU runs, and the cr2 Xen writes into
 * the faulting vCPU's vcpu_info says which vCPU a call really ran on.
 *
 * With one vCPU (the default `make run`) all but the refusals skip: boot
 * with VCPUS=2 (dom0_max_vcpus) or xl's vcpus=.  Every test leaves the
 * secondaries down, as the suspend tests expect.
 */
#include <pvmm/test.h>
#include "smp_helpers.h"
#include <pvmm/smp.h>
#include <pvmm/hypercall.h>
#include <pvmm/shared_info.h>
#include <pvmm/traps.h>
#include <pvmm/time.h>
#include <pvmm/cmdline.h>
#include <pvmm/inject.h>
#include <pvmm/events.h>
#include <pvmm/printk.h>
#include <pvmm/p2m.h>
#include <pvmm/pte.h>
#include <pvmm/layout.h>
#include <xen/vcpu.h>
#include <xen/event_channel.h>

#define CALL_TIMEOUT_NS     (2 * NSEC_PER_SEC)
/* Unmapped: below the kernel's ranges, one page per vCPU. */
#define PROBE_VA_BASE       0x00007ffe00000000UL

struct where {
    unsigned long probe_va;         /* in: what to fault on */
    unsigned int id;                /* out: smp_vcpu_id() there */
    bool faulted;
    unsigned long calls;
};

/* Runs on a secondary: who it is, and a fault Xen records per vCPU. */
static void note_where(void *arg)
{
    struct where *w = arg;
    struct exc_fault f;
    uint64_t val;

    w->id = smp_vcpu_id();
    w->faulted = exc_probe_read((const void *)w->probe_va, &val, &f);
    w->calls++;
}

static long is_up(unsigned int id)
{
    return HYPERVISOR_vcpu_op(VCPUOP_is_up, id, NULL);
}

static uint64_t cr2_of(unsigned int id)
{
    return READ_ONCE(smp_vcpu_info(id)->arch.cr2);
}

static void arm(enum inject_kind kind, unsigned long nth)
{
    const struct inject_rule r = { kind, nth, INJECT_DEFAULT };

    inject_arm(&r);
}

static void mark_done(void *arg)
{
    WRITE_ONCE(*(unsigned long *)arg, 1);
}

/*
 * Xen refusing each step of a first start (the second doorbell, the
 * initialise, the up): smp_start says so, Xen says the vCPU is down, and
 * the next smp_start succeeds.  First in this file: it needs vCPU 1 never
 * started.
 */
TEST(smp, a_refused_start_leaves_the_vcpu_startable)
{
    unsigned long done = 0;

    if ( !need_secondaries() )
        return;
    if ( smp_call_port(1) )
    {
        test_skip("vCPU 1 was started already: run smp.* first");
        return;
    }
    arm(INJECT_EVTCHN_OP, 2);               /* done_port's bind */
    ASSERT_EQ(smp_start(1), -XEN_EINVAL);
    ASSERT_EQ(is_up(1), 0);
    ASSERT_EQ(smp_call_port(1), 0);
    arm(INJECT_VCPU_OP, 1);                 /* VCPUOP_initialise */
    ASSERT_EQ(smp_start(1), -XEN_EINVAL);
    ASSERT_EQ(is_up(1), 0);
    arm(INJECT_VCPU_OP, 2);                 /* VCPUOP_up */
    ASSERT_EQ(smp_start(1), -XEN_EINVAL);
    ASSERT_EQ(is_up(1), 0);
    ASSERT_EQ(smp_start(1), 0);
    ASSERT_EQ(is_up(1), 1);
    ASSERT_EQ(smp_call(1, mark_done, &done, CALL_TIMEOUT_NS), 0);
    ASSERT_EQ(done, 1);
    ASSERT_EQ(smp_stop(1), 0);
}

/*
 * A doorbell Xen refuses to ring: the call is posted all the same, the
 * vCPU finds it at its next poll (within SMP_IDLE_POLL_NS) and is back in
 * service; a refused VCPUOP_down leaves it running.
 */
TEST(smp, a_refused_ring_or_down_loses_nothing)
{
    unsigned long done = 0;
    int rc;

    if ( !need_secondaries() )
        return;
    ASSERT_EQ(smp_start(1), 0);
    arm(INJECT_EVTCHN_OP, 1);               /* the ring */
    ASSERT_EQ(smp_call(1, mark_done, &done, CALL_TIMEOUT_NS), -XEN_EINVAL);
    rc = smp_start(1);                      /* stuck until it is done */
    ASSERT_TRUE(rc == -XEN_EBUSY || (rc == 0 && READ_ONCE(done)));
    ASSERT_EQ(wait_for_flag(&done, SMP_IDLE_POLL_NS + CALL_TIMEOUT_NS), 1);
    ASSERT_EQ(smp_start(1), 0);
    arm(INJECT_VCPU_OP, 1);                 /* VCPUOP_down */
    ASSERT_EQ(smp_stop(1), -XEN_EINVAL);
    ASSERT_EQ(is_up(1), 1);
    done = 0;
    ASSERT_EQ(smp_call(1, mark_done, &done, CALL_TIMEOUT_NS), 0);
    ASSERT_EQ(done, 1);
    ASSERT_EQ(smp_stop(1), 0);
    ASSERT_EQ(is_up(1), 0);
}

/* Xen's answers bound the count; vcpus= (the runner's word) fixes it. */
TEST(smp, vcpu_count_is_what_xen_gave)
{
    unsigned int n = smp_nr_vcpus();

    ASSERT_TRUE(n >= 1 && n <= SMP_MAX_VCPUS);
    ASSERT_EQ(is_up(0), 1);
    ASSERT_TRUE(is_up(n - 1) >= 0);
    if ( n < SMP_MAX_VCPUS )
        ASSERT_EQ(is_up(n), -XEN_ENOENT);
    if ( boot_opts.vcpus )
        ASSERT_EQ(n, boot_opts.vcpus < SMP_MAX_VCPUS ? boot_opts.vcpus
                                                      : SMP_MAX_VCPUS);
}

TEST(smp, each_call_runs_on_its_vcpu)
{
    struct where w;
    unsigned int id;
    uint64_t cr2_boot;

    if ( !need_secondaries() )
        return;
    for ( id = 1; id < smp_nr_vcpus(); id++ )
    {
        ASSERT_EQ(smp_start(id), 0);
        ASSERT_EQ(is_up(id), 1);
        w = (struct where){ .probe_va = PROBE_VA_BASE + id * PAGE_SIZE };
        cr2_boot = cr2_of(0);
        ASSERT_EQ(smp_call(id, note_where, &w, CALL_TIMEOUT_NS), 0);
        ASSERT_EQ(w.calls, 1);
        ASSERT_EQ(w.id, id);
        ASSERT_TRUE(w.faulted);
        /* Xen wrote the fault into that vCPU's vcpu_info, not ours. */
        ASSERT_EQ(cr2_of(id), w.probe_va);
        ASSERT_EQ(cr2_of(0), cr2_boot);
        ASSERT_EQ(smp_stop(id), 0);
        ASSERT_EQ(is_up(id), 0);
    }
}

static struct vcpu_info *legacy_slot(unsigned int id)
{
    return &xen_shared_info->vcpu_info[id];
}

/*
 * An event for vCPU 0 (an unmasked IPI channel of its own, rung once):
 * Xen marks it pending in vCPU 0's registered vcpu_info, and not in its
 * slot in shared_info.
 */
static void event_lands_in_the_area(void)
{
    struct evtchn_bind_ipi ipi = { .vcpu = 0 };
    struct evtchn_close close;
    uint8_t area, slot;

    ASSERT_EQ(HYPERVISOR_event_channel_op(EVTCHNOP_bind_ipi, &ipi), 0);
    ASSERT_EQ(evtchn_unmask(ipi.port), 0);
    /* Xen marks the vCPU only when the port's selector bit was clear. */
    WRITE_ONCE(smp_vcpu_info(0)->evtchn_pending_sel, 0);
    WRITE_ONCE(legacy_slot(0)->evtchn_pending_sel, 0);
    WRITE_ONCE(smp_vcpu_info(0)->evtchn_upcall_pending, 0);
    WRITE_ONCE(legacy_slot(0)->evtchn_upcall_pending, 0);
    ASSERT_EQ(evtchn_send(ipi.port), 0);
    area = READ_ONCE(smp_vcpu_info(0)->evtchn_upcall_pending);
    slot = READ_ONCE(legacy_slot(0)->evtchn_upcall_pending);
    (void)evtchn_test_and_clear(ipi.port);
    close.port = ipi.port;
    ASSERT_EQ(HYPERVISOR_event_channel_op(EVTCHNOP_close, &close), 0);
    ASSERT_EQ(area, 1);
    ASSERT_EQ(slot, 0);
}

/*
 * Every vCPU's vcpu_info is its own registered area, and Xen writes
 * there, not into shared_info's slot: an event for vCPU 0 is marked in
 * its area, and a secondary's fault lands in its area's cr2.
 */
TEST(smp, each_vcpu_info_is_registered_and_xen_writes_there)
{
    struct where w;
    unsigned int id;

    for ( id = 0; id < smp_nr_vcpus(); id++ )
        ASSERT_TRUE(smp_vcpu_info(id) != legacy_slot(id));
    event_lands_in_the_area();
    if ( smp_nr_vcpus() < 2 )
        return;
    for ( id = 1; id < smp_nr_vcpus(); id++ )
    {
        w = (struct where){ .probe_va = PROBE_VA_BASE + 64 * PAGE_SIZE +
                                        id * PAGE_SIZE };
        ASSERT_EQ(smp_start(id), 0);
        ASSERT_EQ(smp_call(id, note_where, &w, CALL_TIMEOUT_NS), 0);
        ASSERT_TRUE(w.faulted);
        ASSERT_EQ(cr2_of(id), w.probe_va);
        ASSERT_NE(READ_ONCE(legacy_slot(id)->arch.cr2), w.probe_va);
        ASSERT_EQ(smp_stop(id), 0);
    }
}

TEST(smp, a_stopped_vcpu_is_offline_and_restarts)
{
    struct vcpu_runstate_info rs;
    struct where w = { .probe_va = PROBE_VA_BASE };

    if ( !need_secondaries() )
        return;
    ASSERT_EQ(smp_start(1), 0);
    ASSERT_EQ(smp_call(1, note_where, &w, CALL_TIMEOUT_NS), 0);
    ASSERT_EQ(smp_stop(1), 0);
    /* Offline, or still blocked in the poll it was stopped in. */
    ASSERT_EQ(HYPERVISOR_vcpu_op(VCPUOP_get_runstate_info, 1, &rs), 0);
    ASSERT_TRUE(rs.state == RUNSTATE_offline ||
                rs.state == RUNSTATE_blocked);
    ASSERT_EQ(smp_call(1, note_where, &w, CALL_TIMEOUT_NS), -XEN_EINVAL);
    ASSERT_EQ(w.calls, 1);
    /* Up again where it stopped: in its loop, without a new initialise. */
    ASSERT_EQ(smp_start(1), 0);
    ASSERT_EQ(smp_call(1, note_where, &w, CALL_TIMEOUT_NS), 0);
    ASSERT_EQ(w.calls, 2);
    ASSERT_EQ(w.id, 1);
    ASSERT_EQ(smp_stop(1), 0);
}

static void nothing(void *arg)
{
    (void)arg;
}

static long port_status(evtchn_port_t port, struct evtchn_status *st)
{
    *st = (struct evtchn_status){ .dom = DOMID_SELF, .port = port };
    return HYPERVISOR_event_channel_op(EVTCHNOP_status, st);
}

/*
 * Calls are rung on an IPI event channel bound to the secondary, and an
 * idle secondary waits in SCHEDOP_poll: Xen's runstate says blocked, not
 * running or runnable as a vCPU that spins or yields would be.
 */
TEST(smp, an_idle_vcpu_blocks_on_its_ipi_channel)
{
    struct vcpu_runstate_info rs;
    struct evtchn_status st;
    evtchn_port_t port;
    unsigned int tries;

    if ( !need_secondaries() )
        return;
    ASSERT_EQ(smp_start(1), 0);
    ASSERT_EQ(smp_call(1, nothing, NULL, CALL_TIMEOUT_NS), 0);
    port = smp_call_port(1);
    ASSERT_TRUE(port != 0);
    ASSERT_EQ(port_status(port, &st), 0);
    ASSERT_EQ(st.status, EVTCHNSTAT_ipi);
    ASSERT_EQ(st.vcpu, 1);
    /* Blocked within a few tries (it may still be on its way back). */
    for ( tries = 0; tries < 50; tries++ )
    {
        time_sleep_until(time_now_ns() + 10 * NSEC_PER_MSEC);
        ASSERT_EQ(HYPERVISOR_vcpu_op(VCPUOP_get_runstate_info, 1, &rs), 0);
        if ( rs.state == RUNSTATE_blocked )
            break;
    }
    ASSERT_EQ(rs.state, RUNSTATE_blocked);
    ASSERT_EQ(smp_call(1, nothing, NULL, CALL_TIMEOUT_NS), 0);
    ASSERT_EQ(smp_stop(1), 0);
}

static bool release_spinner;

/* Until smp_start() takes vCPU id back (a late call has finished). */
static bool wait_until_startable(unsigned int id, uint64_t timeout_ns)
{
    uint64_t deadline = time_now_ns() + timeout_ns;

    while ( smp_start(id) != 0 )
    {
        if ( time_now_ns() > deadline )
            return false;
        time_sleep_until(time_now_ns() + 10 * NSEC_PER_MSEC);
    }
    return true;
}

static void spin_until_released(void *arg)
{
    unsigned long *done = arg;

    while ( !READ_ONCE(release_spinner) )
        (void)HYPERVISOR_sched_op(SCHEDOP_yield, NULL);
    WRITE_ONCE(*done, 1);
}

TEST(smp, a_call_that_never_finishes_times_out)
{
    unsigned long done = 0;
    struct where w = { .probe_va = PROBE_VA_BASE };

    if ( !need_secondaries() )
        return;
    release_spinner = false;
    ASSERT_EQ(smp_start(1), 0);
    ASSERT_EQ(smp_call(1, spin_until_released, &done, 50 * NSEC_PER_MSEC),
              -XEN_ETIMEDOUT);
    ASSERT_EQ(smp_call(1, note_where, &w, CALL_TIMEOUT_NS), -XEN_EINVAL);
    ASSERT_EQ(smp_start(1), -XEN_EBUSY);
    WRITE_ONCE(release_spinner, true);
    ASSERT_EQ(wait_for_flag(&done, CALL_TIMEOUT_NS), 1);
    /* Finished after all: the vCPU takes calls again. */
    ASSERT_EQ(smp_start(1), 0);
    ASSERT_EQ(smp_call(1, note_where, &w, CALL_TIMEOUT_NS), 0);
    ASSERT_EQ(w.calls, 1);
    ASSERT_EQ(smp_stop(1), 0);
}

/*
 * A call that never reaches a park point: smp_quiesce gives up at its
 * deadline with -XEN_ETIMEDOUT instead of hanging, and leaves nothing
 * parked; once the call is let go, parking works.
 */
TEST(smp, quiesce_times_out_on_a_call_without_park_points)
{
    unsigned long done = 0;

    if ( !need_secondaries() )
        return;
    release_spinner = false;
    ASSERT_EQ(smp_start(1), 0);
    ASSERT_EQ(smp_post(1, spin_until_released, &done), 0);
    ASSERT_EQ(smp_quiesce(100 * NSEC_PER_MSEC), -XEN_ETIMEDOUT);
    WRITE_ONCE(release_spinner, true);
    ASSERT_EQ(smp_wait(1, CALL_TIMEOUT_NS), 0);
    ASSERT_EQ(done, 1);
    ASSERT_EQ(smp_quiesce(CALL_TIMEOUT_NS), 0);
    smp_unquiesce();
    ASSERT_EQ(smp_call(1, nothing, NULL, CALL_TIMEOUT_NS), 0);
    ASSERT_EQ(smp_stop(1), 0);
}

/*
 * Xen refusing the doorbell of a parking call: smp_quiesce returns the
 * error at once and releases; the posted call runs at the vCPU's next
 * poll and returns without parking, and the vCPU is back in service.
 */
TEST(smp, quiesce_reports_a_refused_doorbell)
{
    if ( !need_secondaries() )
        return;
    ASSERT_EQ(smp_start(1), 0);
    arm(INJECT_EVTCHN_OP, 1);               /* the parking call's ring */
    ASSERT_EQ(smp_quiesce(CALL_TIMEOUT_NS), -XEN_EINVAL);
    /* Stuck until the parking call has run (at its next poll). */
    ASSERT_TRUE(wait_until_startable(1, SMP_IDLE_POLL_NS + CALL_TIMEOUT_NS));
    ASSERT_EQ(smp_call(1, nothing, NULL, CALL_TIMEOUT_NS), 0);
    ASSERT_EQ(smp_stop(1), 0);
}

/*
 * What a suspend does to the secondaries, without the suspend: all down
 * (Xen's is_up) and back, answering calls; and a secondary in the middle
 * of a call refuses it, leaving every one up as it was.
 */
TEST(smp, suspend_takes_the_secondaries_down_and_back)
{
    unsigned long was_up, done = 0;
    unsigned int id, n = smp_nr_vcpus();

    if ( !need_secondaries() )
        return;
    for ( id = 1; id < n; id++ )
        ASSERT_EQ(smp_start(id), 0);
    ASSERT_EQ(smp_suspend(&was_up), 0);
    ASSERT_EQ(was_up, (1UL << n) - 2);
    for ( id = 1; id < n; id++ )
        ASSERT_EQ(is_up(id), 0);
    ASSERT_EQ(smp_resume(was_up, false), n - 1);
    for ( id = 1; id < n; id++ )
    {
        ASSERT_EQ(is_up(id), 1);
        ASSERT_EQ(smp_call(id, nothing, NULL, CALL_TIMEOUT_NS), 0);
    }

    /* The last one busy: the ones before it go down and come back. */
    release_spinner = false;
    ASSERT_EQ(smp_post(n - 1, spin_until_released, &done), 0);
    ASSERT_EQ(smp_suspend(&was_up), -XEN_EBUSY);
    for ( id = 1; id < n; id++ )
        ASSERT_EQ(is_up(id), 1);
    WRITE_ONCE(release_spinner, true);
    ASSERT_EQ(smp_wait(n - 1, CALL_TIMEOUT_NS), 0);
    for ( id = 1; id < n; id++ )
    {
        ASSERT_EQ(smp_call(id, nothing, NULL, CALL_TIMEOUT_NS), 0);
        ASSERT_EQ(smp_stop(id), 0);
    }
}

/*
 * Each started secondary runs on a GDT page of its own that Xen took as
 * a GDT: a store through the direct map faults (read-only), and Xen
 * refuses to map the page writable with -EBUSY (a page typed as a
 * descriptor table cannot take the writable type; an untyped read-only
 * page could).
 */
TEST(smp, each_secondary_has_a_gdt_page_xen_holds)
{
    unsigned int id;
    pfn_t pfn;
    void *va;
    struct exc_fault f;
    long rc;

    if ( !need_secondaries() )
        return;
    for ( id = 1; id < smp_nr_vcpus(); id++ )
    {
        ASSERT_EQ(smp_start(id), 0);
        pfn = mfn_to_pfn(smp_gdt_frame(id));
        ASSERT_TRUE(!pfn_eq(pfn, INVALID_PFN));
        va = directmap_va(pfn);
        ASSERT_TRUE(exc_probe_write(va, 0, &f));
        ASSERT_EQ(f.cr2, (unsigned long)va);
        rc = HYPERVISOR_update_va_mapping((unsigned long)va,
                 pte_from_mfn(smp_gdt_frame(id), PTE_KERNEL_RW | pte_nx),
                 UVMF_INVLPG | UVMF_LOCAL);
        if ( !rc )                  /* accepted: put it back as it was */
            (void)HYPERVISOR_update_va_mapping((unsigned long)va,
                 pte_from_mfn(smp_gdt_frame(id), PTE_KERNEL_RO | pte_nx),
                 UVMF_INVLPG | UVMF_LOCAL);
        ASSERT_EQ(rc, -XEN_EBUSY);      /* the page's type is in use */
        ASSERT_EQ(smp_stop(id), 0);
    }
}

struct sleeper {
    uint64_t until, woke;
};

static void sleep_until(void *arg)
{
    struct sleeper *z = arg;

    time_sleep_until(z->until);
    z->woke = time_now_ns();
}

/*
 * Each vCPU blocks on a timer of its own (SCHEDOP_poll's timeout is
 * Xen's timer for that vCPU): vCPU 1 sleeps 300 ms while vCPU 0 sleeps
 * 50 ms; vCPU 0 wakes first, finds vCPU 1 still blocked in Xen, and
 * vCPU 1 wakes on its own deadline, not vCPU 0's.
 */
TEST(smp, each_vcpu_sleeps_on_its_own_timer)
{
    struct vcpu_runstate_info rs;
    struct sleeper z;
    uint64_t t0;

    if ( !need_secondaries() )
        return;
    ASSERT_EQ(smp_start(1), 0);
    t0 = time_now_ns();
    z = (struct sleeper){ .until = t0 + 300 * NSEC_PER_MSEC };
    ASSERT_EQ(smp_post(1, sleep_until, &z), 0);
    time_sleep_until(t0 + 50 * NSEC_PER_MSEC);
    ASSERT_EQ(HYPERVISOR_vcpu_op(VCPUOP_get_runstate_info, 1, &rs), 0);
    ASSERT_EQ(rs.state, RUNSTATE_blocked);
    ASSERT_EQ(READ_ONCE(z.woke), 0);
    ASSERT_EQ(smp_wait(1, CALL_TIMEOUT_NS), 0);
    ASSERT_TRUE(z.woke >= z.until);
    printk("         vCPU 1 woke %lu us after its deadline\n",
           (unsigned long)((z.woke - z.until) / 1000));
    ASSERT_EQ(smp_stop(1), 0);
}

TEST(smp, bad_requests_are_refused)
{
    struct where w = { .probe_va = PROBE_VA_BASE };
    unsigned int n = smp_nr_vcpus();

    ASSERT_EQ(smp_start(0), -XEN_EINVAL);
    ASSERT_EQ(smp_start(n), -XEN_EINVAL);
    ASSERT_EQ(smp_stop(0), -XEN_EINVAL);
    ASSERT_EQ(smp_stop(n), -XEN_EINVAL);
    ASSERT_EQ(smp_call(0, note_where, &w, CALL_TIMEOUT_NS), -XEN_EINVAL);
    ASSERT_EQ(smp_call(n, note_where, &w, CALL_TIMEOUT_NS), -XEN_EINVAL);
    if ( n >= 2 )       /* never started, or left down by the tests above */
        ASSERT_EQ(smp_stop(1), -XEN_EINVAL);
    ASSERT_EQ(w.calls, 0);
}
