/*
 * The held kernel (pvmm/hold.h): what it checks after each resume, and
 * the balloon target it follows.
 *
 * Memory content is checked with per-pfn tags in every free frame,
 * written whenever the kernel starts to wait and checked after a resume:
 * nothing allocates or frees between the two, because the only code that
 * runs is the wait and the suspend path.
 *
 * With more than one vCPU, the secondaries are up and idle while the
 * kernel holds, so every save takes them down and brings them back; the
 * resumed line says how many vCPUs answered a call afterwards.
 */
#include <pvmm/hold.h>
#include <pvmm/control.h>
#include <pvmm/suspend.h>
#include <pvmm/xenstore.h>
#include <pvmm/console.h>
#include <pvmm/cmdline.h>
#include <pvmm/shared_info.h>
#include <pvmm/hypercall.h>
#include <pvmm/p2m_core.h>
#include <pvmm/p2m_boot.h>
#include <pvmm/frame.h>
#include <pvmm/frame_tags.h>
#include <pvmm/balloon.h>
#include <pvmm/printk.h>
#include <pvmm/time.h>
#include <pvmm/smp.h>
#include <xen/vcpu.h>

#define WAIT_SLICE_NS   (10UL * NSEC_PER_SEC)

static struct frame_tags tags;

static long reservation(void)
{
    domid_t self = DOMID_SELF;

    return HYPERVISOR_memory_op(XENMEM_current_reservation, &self);
}

/* Tags the free frames and says the runner may act. */
static void ready(void)
{
    frame_tags_write(&tags);
    printk("PVMM-READY n=%lu\n", suspend_count());
    (void)cons_flush(CONS_RING_WAIT_NS);
}

static void whoami(void *arg)
{
    *(unsigned int *)arg = smp_vcpu_id();
}

/*
 * vCPU 0, and each secondary that Xen says is up and that runs a call
 * on itself (the call reads its own id).
 */
static unsigned int vcpus_answering(void)
{
    unsigned int id, n = 1, who;

    for ( id = 1; id < smp_nr_vcpus(); id++ )
    {
        who = ~0U;
        if ( HYPERVISOR_vcpu_op(VCPUOP_is_up, id, NULL) == 1 &&
             smp_call(id, whoami, &who, SMP_START_TIMEOUT_NS) == 0 &&
             who == id )
            n++;
    }
    return n;
}

void hold_report_resume(const struct frame_tags *t)
{
    const struct suspend_report *r = suspend_last();
    unsigned long checked, bad = frame_tags_check(t, &checked);
    bool audit_ok = p2m_audit() == 0;
    char memory[40];

    if ( bad )
        snprintf(memory, sizeof(memory), "FAIL (%lu bad frames)", bad);
    else
        snprintf(memory, sizeof(memory), "ok");
    printk("pvmm: resume: %lu cached mfns re-derived, %u trees pinned for "
           "it, mm's resume %lu hypercalls and %lu mmu ops, %lu free frames "
           "checked, down %lu ms, up %lu ms\n", r->mm.rederived,
           r->mm.pinned, (unsigned long)r->mm.hypercalls,
           (unsigned long)r->mm.mmu_ops, checked,
           r->down_ns / NSEC_PER_MSEC, r->up_ns / NSEC_PER_MSEC);
    printk("pvmm: resumed n=%lu new_domain=%s audit=%s memory=%s "
           "frames=%lu vcpus=%u/%u\n", suspend_count(),
           r->new_domain ? "yes" : "no", audit_ok ? "ok" : "FAIL", memory,
           p2m_nr_populated, vcpus_answering(), smp_nr_vcpus());
}

static void after_resume(void *ctx)
{
    (void)ctx;
    hold_report_resume(&tags);
    ready();
}

/* Gives back frames until the reservation is target, or takes some. */
static long balloon_down(long excess)
{
    unsigned long done = 0;
    int rc = balloon_release(excess, NULL, &done);

    if ( rc )
        printk("pvmm: balloon: releasing %ld frames: %d (%lu done)\n",
               excess, rc, done);
    return done;
}

/* Populates missing pfns below the allocator's end, lowest first. */
static long balloon_up(long want)
{
    unsigned long pfn, done, total = 0;
    int rc;

    for ( pfn = 0; pfn < frame_total() && (long)total < want; pfn++ )
    {
        if ( p2m_get_entry(_pfn(pfn)) != INVALID_P2M_ENTRY )
            continue;
        if ( (rc = balloon_populate(_pfn(pfn), 1, &done)) != 0 )
        {
            printk("pvmm: balloon: populating pfn %#lx: %d\n", pfn, rc);
            break;
        }
        total += done;
    }
    return total;
}

/* memory/target changed (xl mem-set): follow it, as a balloon driver. */
static void follow_target(void *ctx)
{
    char buf[32];
    unsigned long kib;
    long n = xs_read("memory/target", buf, sizeof(buf)), before, target;

    (void)ctx;
    if ( n < 0 || !cmdline_parse_ulong(buf, n, &kib) )
    {
        printk("pvmm: balloon: memory/target unreadable (%ld)\n", n);
        return;
    }
    target = kib / (PAGE_SIZE / 1024);
    before = reservation();
    if ( before < 0 || before == target )
        return;
    if ( (before > target ? balloon_down(before - target)
                          : balloon_up(target - before)) == 0 )
    {
        /* Nothing changed: the tags still hold, the runner need not wait. */
        printk("pvmm: balloon: target %ld pages, reservation %ld: nothing "
               "to %s\n", target, before,
               before > target ? "give back" : "populate below the "
                                               "allocator's end");
        return;
    }
    printk("pvmm: balloon: target %ld pages: reservation %ld -> %ld, "
           "audit %s\n", target, before, reservation(),
           p2m_audit() ? "FAIL" : "ok");
    ready();
}

static void print_digest(const struct boot_options *opts)
{
    unsigned long count;
    uint64_t hash;

    if ( opts->p2m_map )
        p2m_map_dump("hold");
    p2m_digest(&count, &hash);
    printk("P2M-DIGEST populated=%lu hash=%016lx\n", count, hash);
    printk("pvmm: holding (p2m_cr3 %s)\n",
           xen_shared_info->arch.p2m_cr3 ? "set: linear list"
                                         : "0: frame list");
}

/* The secondaries up and idle, so that a save has them to deal with. */
static void start_secondaries(void)
{
    unsigned int id;
    int rc;

    for ( id = 1; id < smp_nr_vcpus(); id++ )
        if ( (rc = smp_start(id)) != 0 )
            printk("pvmm: cannot start vCPU %u to hold: %d\n", id, rc);
    if ( smp_nr_vcpus() > 1 )
        printk("pvmm: holding with %u of %u vCPUs up\n", smp_nr_running(),
               smp_nr_vcpus());
}

void __noreturn hold(const struct boot_options *opts)
{
    int rc;

    print_digest(opts);
    start_secondaries();
    if ( xs_available() )
    {
        control_on_resume(after_resume, NULL);
        if ( (rc = control_watch("memory/target", follow_target, NULL)) )
            printk("pvmm: cannot watch memory/target: %d\n", rc);
        ready();
    }
    (void)cons_flush(CONS_RING_WAIT_NS);
    for ( ; ; )
        (void)control_poll(time_now_ns() + WAIT_SLICE_NS);
}
