/*
 * Secondary vCPUs: per-vCPU data, bring-up, down and up, and calls.
 *
 * Every vCPU's kernel GS base points at its struct percpu, so code that
 * runs anywhere finds its own data with one %gs-relative load; vCPU 0's
 * is set at boot, a secondary's in the context it starts with.
 *
 * A secondary is started once with VCPUOP_initialise (Xen refuses a
 * second time) and VCPUOP_up.  It enters smp_secondary_main() on its own
 * stack and GDT page, on this kernel's root pagetable, with the boot
 * vCPU's trap table and callbacks and events masked, and loops: it runs
 * the function vCPU 0 posts in its mailbox, then says it has finished.
 * Only vCPU 0 changes a vCPU's state; a secondary writes only its
 * `entered` flag and its `finished` count, so x86's ordering of plain
 * stores is all the mailbox needs (the compiler is held by barrier()).
 *
 * The mailbox's doorbells are two IPI event channels per secondary
 * (EVTCHNOP_bind_ipi): `call_port`, bound to the secondary, rung when a
 * call is posted, and `done_port`, bound to vCPU 0, rung when it has
 * finished.  Each side waits with SCHEDOP_poll on its port (events stay
 * masked: no upcall), so an idle secondary is blocked in Xen, not
 * spinning.  A waiter re-reads the mailbox after every wake, and polls
 * again at most every SMP_IDLE_POLL_NS, so a lost ring costs time, not a
 * hang.
 *
 * VCPUOP_down stops a secondary wherever it is; VCPUOP_up resumes it
 * there, so one that was idle is idle again.  A call that does not finish
 * in time marks the vCPU stuck: nothing more is sent until the call has
 * finished after all (smp_start() checks).
 */
#include <pvmm/smp.h>
#include <pvmm/hypercall.h>
#include <pvmm/shared_info.h>
#include <pvmm/traps.h>
#include <pvmm/time.h>
#include <pvmm/printk.h>
#include <pvmm/panic.h>
#include <pvmm/lib.h>
#include <pvmm/pt.h>
#include <pvmm/multicall.h>
#include <pvmm/layout.h>
#include <pvmm/p2m.h>
#include <pvmm/events.h>
#include <pvmm/inject.h>
#include <xen/vcpu.h>

#define RFLAGS_FIXED    (1UL << 1)      /* reads as 1 */
#define RFLAGS_IF       (1UL << 9)

enum vcpu_state {
    VCPU_NEW,                       /* never initialised */
    VCPU_DOWN,                      /* initialised, down */
    VCPU_RUNNING,                   /* in its loop, taking calls */
    VCPU_STUCK,                     /* a call did not finish in time */
};

struct percpu {
    struct percpu *self;            /* %gs:0 */
    unsigned int id;
    enum vcpu_state state;          /* vCPU 0's view; only it writes */
    bool entered;                   /* the secondary reached its loop */
    evtchn_port_t call_port;        /* bound to it: a call is posted */
    evtchn_port_t done_port;        /* bound to vCPU 0: a call finished */
    void (*fn)(void *arg);
    void *arg;
    unsigned long requested;        /* calls posted (vCPU 0) */
    unsigned long finished;         /* calls done (the secondary) */
    bool info_registered;           /* Xen writes `info`, not its slot */
    /* Its vcpu_info once registered: 64-byte aligned, within one page. */
    struct vcpu_info info __aligned(64);
};

static struct percpu percpus[SMP_MAX_VCPUS] __aligned(64);
static uint8_t smp_stacks[SMP_MAX_VCPUS][SMP_STACK_SIZE] __aligned(16);
static struct vcpu_guest_context start_context;     /* 5 KiB: not on a stack */

/*
 * Each secondary's own GDT: one page of null descriptors, the first
 * SMP_GDT_ENTRIES of them handed to Xen.  The selectors it runs on are
 * the flat ones in Xen's reserved part of the GDT, as vCPU 0's are; the
 * page is there so that a kernel with descriptors of its own (a TSS, per
 * vCPU data) has the place for them.  Xen takes a page as a GDT only if
 * nothing maps it writable: every alias goes read-only first.
 */
#define SMP_GDT_ENTRIES 16
static uint8_t smp_gdts[SMP_MAX_VCPUS][PAGE_SIZE]
    __section(".bss.page_aligned") __aligned(PAGE_SIZE);
static unsigned int nr_vcpus = 1;

void smp_secondary_entry(void);     /* entry.S */

/*
 * The hypercalls whose failure leaves a vCPU half started, through the
 * fault-injection hooks (pvmm/inject.h: vcpu_op, evtchn_op).
 */
static bool injected(enum inject_kind kind, long *rc)
{
    long v;

    if ( !inject_fire(kind, &v) )
        return false;
    *rc = v == INJECT_DEFAULT ? -XEN_EINVAL : v;
    return true;
}

static long vcpu_op(unsigned int cmd, unsigned int id, void *arg)
{
    long rc;

    return injected(INJECT_VCPU_OP, &rc) ? rc
           : HYPERVISOR_vcpu_op(cmd, id, arg);
}

static long evtchn_op(unsigned int cmd, void *arg)
{
    long rc;

    return injected(INJECT_EVTCHN_OP, &rc) ? rc
           : HYPERVISOR_event_channel_op(cmd, arg);
}

/* vCPU 0 rings a doorbell (the secondary's own rings are not counted). */
static int ring(evtchn_port_t port)
{
    struct evtchn_send send = { .port = port };

    return (int)evtchn_op(EVTCHNOP_send, &send);
}

/* A call is posted and not finished. */
static bool busy(const struct percpu *pc)
{
    return READ_ONCE(pc->finished) != pc->requested;
}

static void init_percpu(struct percpu *pc, unsigned int id)
{
    pc->self = pc;
    pc->id = id;
    pc->entered = false;            /* set again when it reaches its loop */
}

struct vcpu_info *smp_vcpu_info(unsigned int id)
{
    return READ_ONCE(percpus[id].info_registered)
           ? &percpus[id].info : &xen_shared_info->vcpu_info[id];
}

/*
 * VCPUOP_register_vcpu_info: from now on Xen writes vCPU id's event
 * flags, cr2 and time record into its own percpu area (and copies the
 * old slot there first), not into shared_info's legacy slot, which only
 * has room for 32 vCPUs.  Allowed for the calling vCPU or one that is
 * down, once per domain: a restored domain must register again.  On a
 * refusal the vCPU keeps its legacy slot, which works as before.
 */
static int register_info(unsigned int id)
{
    struct percpu *pc = &percpus[id];
    struct vcpu_register_vcpu_info r = {
        .mfn = mfn_x(pfn_to_mfn(boot_va_to_pfn(&pc->info))),
        .offset = (unsigned long)&pc->info & (PAGE_SIZE - 1),
    };
    long rc = vcpu_op(VCPUOP_register_vcpu_info, id, &r);

    if ( rc )
        printk("smp: VCPUOP_register_vcpu_info(%u) failed: %ld; it keeps "
               "its slot in shared_info\n", id, rc);
    else
        WRITE_ONCE(pc->info_registered, true);
    return rc;
}

/* Every vCPU's, at boot and in a restored domain (all others are down). */
void smp_register_vcpu_info(void)
{
    unsigned int id;

    for ( id = 0; id < nr_vcpus; id++ )
        if ( !percpus[id].info_registered )
            (void)register_info(id);
}

void smp_resume_info(bool new_domain)
{
    unsigned int id;

    if ( !new_domain )
        return;                     /* Xen still writes where it did */
    for ( id = 0; id < nr_vcpus; id++ )
        WRITE_ONCE(percpus[id].info_registered, false);
    smp_register_vcpu_info();
}

void smp_init_boot_vcpu(void)
{
    long rc;

    init_percpu(&percpus[0], 0);
    percpus[0].state = VCPU_RUNNING;
    rc = HYPERVISOR_set_segment_base(SEGBASE_GS_KERNEL,
                                     (unsigned long)&percpus[0]);
    if ( rc )
        panic("set_segment_base(GS_KERNEL) failed: %ld", rc);
}

unsigned int smp_vcpu_id(void)
{
    unsigned int id;

    asm ( "movl %%gs:%c1, %0" : "=r" (id)
          : "i" (offsetof(struct percpu, id)) );
    return id;
}

void smp_init(void)
{
    unsigned int id;

    /* VCPUOP_is_up answers 0 or 1 for a vCPU that exists. */
    for ( id = 1; HYPERVISOR_vcpu_op(VCPUOP_is_up, id, NULL) >= 0; id++ )
        if ( id == SMP_MAX_VCPUS )
        {
            printk("smp: Xen gave this domain more than %u vCPUs; pvmm "
                   "uses the first %u\n", SMP_MAX_VCPUS, SMP_MAX_VCPUS);
            break;
        }
    nr_vcpus = id;
    printk("pvmm: %u vCPU%s\n", nr_vcpus, nr_vcpus == 1 ? "" : "s");
}

unsigned int smp_nr_vcpus(void)
{
    return nr_vcpus;
}

/* What vCPU id starts with: see the top of this file. */
/* vCPU id's GDT page, read-only through every alias; its frame. */
static int protect_gdt(unsigned int id, mfn_t *mfn)
{
    pfn_t pfn = boot_va_to_pfn(smp_gdts[id]);
    int rc = pt_set_aliases(pfn, ALIAS_RO);

    rc = rc ? rc : mc_flush();
    if ( rc )
        printk("smp: vCPU %u's GDT page stays writable: %d\n", id, rc);
    *mfn = pfn_to_mfn(pfn);
    return rc;
}

mfn_t smp_gdt_frame(unsigned int id)
{
    return id < SMP_MAX_VCPUS ? pfn_to_mfn(boot_va_to_pfn(smp_gdts[id]))
                              : INVALID_MFN;
}

static void build_context(unsigned int id, mfn_t gdt,
                          struct vcpu_guest_context *c)
{
    unsigned long top = (unsigned long)&smp_stacks[id][SMP_STACK_SIZE];

    memset(c, 0, sizeof(*c));
    c->flags = VGCF_in_kernel;
    c->user_regs.rip = (unsigned long)smp_secondary_entry;
    c->user_regs.rsp = top;
    c->user_regs.rdi = id;
    c->user_regs.cs = FLAT_KERNEL_CS;
    c->user_regs.ss = FLAT_KERNEL_SS;
    c->user_regs.rflags = RFLAGS_IF | RFLAGS_FIXED;
    c->gdt_frames[0] = mfn_x(gdt);
    c->gdt_ents = SMP_GDT_ENTRIES;
    c->kernel_ss = FLAT_KERNEL_SS;
    c->kernel_sp = top;
    c->ctrlreg[3] = xen_pfn_to_cr3(mfn_x(pt_kernel_root()));
    c->gs_base_kernel = (unsigned long)&percpus[id];
    traps_fill_context(c);
}

static int bind_ipi(unsigned int vcpu, evtchn_port_t *port)
{
    struct evtchn_bind_ipi op = { .vcpu = vcpu };
    long rc = evtchn_op(EVTCHNOP_bind_ipi, &op);

    if ( rc )
    {
        printk("smp: EVTCHNOP_bind_ipi(vCPU %u) failed: %ld\n", vcpu, rc);
        return rc;
    }
    *port = op.port;
    return 0;
}

static void close_port(evtchn_port_t port)
{
    struct evtchn_close op = { .port = port };

    (void)HYPERVISOR_event_channel_op(EVTCHNOP_close, &op);
}

static int bind_doorbells(struct percpu *pc)
{
    int rc = bind_ipi(pc->id, &pc->call_port);

    if ( rc )
        return rc;
    if ( (rc = bind_ipi(0, &pc->done_port)) != 0 )
        close_port(pc->call_port);
    return rc;
}

static int initialise(unsigned int id)
{
    mfn_t gdt;
    long rc;

    init_percpu(&percpus[id], id);
    if ( (rc = protect_gdt(id, &gdt)) != 0 ||
         (rc = bind_doorbells(&percpus[id])) != 0 )
        return rc;
    /* Its events stay masked: nothing on a secondary takes an upcall. */
    WRITE_ONCE(smp_vcpu_info(id)->evtchn_upcall_mask, 1);
    build_context(id, gdt, &start_context);
    rc = vcpu_op(VCPUOP_initialise, id, &start_context);
    if ( rc )
    {
        printk("smp: VCPUOP_initialise(%u) failed: %ld\n", id, rc);
        close_port(percpus[id].call_port);
        close_port(percpus[id].done_port);
    }
    return rc;
}

static bool wait_until(const bool *flag, uint64_t timeout_ns)
{
    uint64_t deadline = time_now_ns() + timeout_ns;

    while ( !READ_ONCE(*flag) )
    {
        if ( time_now_ns() > deadline )
            return false;
        (void)HYPERVISOR_sched_op(SCHEDOP_yield, NULL);
    }
    return true;
}

int smp_start(unsigned int id)
{
    struct percpu *pc = &percpus[id];
    long rc;

    if ( id == 0 || id >= nr_vcpus )
        return -XEN_EINVAL;
    if ( pc->state == VCPU_STUCK && !busy(pc) )
        pc->state = VCPU_RUNNING;       /* the late call has finished */
    if ( pc->state == VCPU_RUNNING )
        return 0;
    if ( pc->state == VCPU_STUCK )
        return -XEN_EBUSY;
    if ( pc->state == VCPU_NEW && (rc = initialise(id)) != 0 )
        return rc;
    pc->state = VCPU_DOWN;
    if ( (rc = vcpu_op(VCPUOP_up, id, NULL)) != 0 )
    {
        printk("smp: VCPUOP_up(%u) failed: %ld\n", id, rc);
        return rc;
    }
    if ( !wait_until(&pc->entered, SMP_START_TIMEOUT_NS) )
    {
        printk("smp: vCPU %u is up but never reached its loop\n", id);
        (void)HYPERVISOR_vcpu_op(VCPUOP_down, id, NULL);
        return -XEN_ETIMEDOUT;
    }
    pc->state = VCPU_RUNNING;
    return 0;
}

/*
 * VCPUOP_down only asks: the vCPU may run on for a moment (is_up already
 * says 0).  It has stopped when Xen's runstate says offline, or blocked:
 * a vCPU that was polling stays blocked until its poll ends, and once
 * down it is not woken to run.
 */
static int wait_offline(unsigned int id)
{
    uint64_t deadline = time_now_ns() + SMP_START_TIMEOUT_NS;
    struct vcpu_runstate_info rs;
    long rc;

    for ( ;; )
    {
        rc = HYPERVISOR_vcpu_op(VCPUOP_get_runstate_info, id, &rs);
        if ( rc )
            return rc;
        if ( rs.state == RUNSTATE_offline || rs.state == RUNSTATE_blocked )
            return 0;
        if ( time_now_ns() > deadline )
            return -XEN_ETIMEDOUT;
        (void)HYPERVISOR_sched_op(SCHEDOP_yield, NULL);
    }
}

int smp_stop(unsigned int id)
{
    long rc;

    if ( id == 0 || id >= nr_vcpus || percpus[id].state != VCPU_RUNNING )
        return -XEN_EINVAL;
    if ( busy(&percpus[id]) )
        return -XEN_EBUSY;          /* down in the middle of a call */
    if ( (rc = vcpu_op(VCPUOP_down, id, NULL)) != 0 )
    {
        printk("smp: VCPUOP_down(%u) failed: %ld\n", id, rc);
        return rc;
    }
    percpus[id].state = VCPU_DOWN;
    if ( (rc = wait_offline(id)) != 0 )
        printk("smp: vCPU %u is down but not offline: %ld\n", id, rc);
    return rc;
}

/* Marks vCPU id stuck on call seq: nothing more is sent to it. */
static int stuck(struct percpu *pc, unsigned long seq, const char *why)
{
    printk("smp: vCPU %u, call %lu: %s: stuck\n", pc->id, seq, why);
    pc->state = VCPU_STUCK;
    return -XEN_ETIMEDOUT;
}

int smp_post(unsigned int id, void (*fn)(void *arg), void *arg)
{
    struct percpu *pc = &percpus[id];
    unsigned long seq;
    int rc;

    if ( id == 0 || id >= nr_vcpus || pc->state != VCPU_RUNNING )
        return -XEN_EINVAL;
    if ( busy(pc) )
        return -XEN_EBUSY;
    pc->fn = fn;
    pc->arg = arg;
    barrier();                      /* the call before its number */
    seq = pc->requested + 1;
    WRITE_ONCE(pc->requested, seq);
    if ( (rc = ring(pc->call_port)) != 0 )
    {
        printk("smp: EVTCHNOP_send to vCPU %u failed: %d\n", id, rc);
        (void)stuck(pc, seq, "not rung");
        return rc;
    }
    return 0;
}

int smp_try_post(unsigned int id, void (*fn)(void *arg), void *arg)
{
    struct percpu *pc = &percpus[id];

    if ( id == 0 || id >= nr_vcpus ||
         (pc->state != VCPU_RUNNING && pc->state != VCPU_STUCK) )
        return SMP_NOT_RUNNING;
    if ( pc->state == VCPU_STUCK || busy(pc) )
        return SMP_BUSY;
    return smp_post(id, fn, arg) ?: SMP_POSTED;
}

int smp_wait(unsigned int id, uint64_t timeout_ns)
{
    struct percpu *pc = &percpus[id];
    uint64_t deadline = time_now_ns() + timeout_ns;

    if ( id == 0 || id >= nr_vcpus || pc->state != VCPU_RUNNING )
        return -XEN_EINVAL;
    while ( busy(pc) )
        if ( evtchn_wait(pc->done_port, deadline) == -XEN_ETIMEDOUT &&
             busy(pc) )
            return stuck(pc, pc->requested, "not finished in time");
    barrier();                      /* its results after its number */
    return 0;
}

int smp_call(unsigned int id, void (*fn)(void *arg), void *arg,
             uint64_t timeout_ns)
{
    int rc = smp_post(id, fn, arg);

    return rc ? rc : smp_wait(id, timeout_ns);
}

evtchn_port_t smp_call_port(unsigned int id)
{
    return id && id < nr_vcpus && percpus[id].state != VCPU_NEW
           ? percpus[id].call_port : 0;
}

/* A secondary's life: see the top of this file.  Never returns. */
void __noreturn smp_secondary_main(unsigned int id)
{
    struct percpu *pc = &percpus[id];
    unsigned long seq;

    WRITE_ONCE(pc->entered, true);
    for ( ;; )
    {
        seq = READ_ONCE(pc->requested);
        if ( seq == pc->finished )
        {
            (void)evtchn_wait(pc->call_port, time_now_ns() + SMP_IDLE_POLL_NS);
            continue;
        }
        barrier();
        pc->fn(pc->arg);
        barrier();
        WRITE_ONCE(pc->finished, seq);
        (void)evtchn_send(pc->done_port);   /* vCPU 0 re-reads anyway */
    }
}

/*
 * Suspend (docs/suspend.md): the tools save only the vCPUs that are up,
 * and a restored domain has none of the old event channels, so every
 * secondary goes down first and comes back after: with VCPUOP_up alone
 * if the suspend was cancelled (the same domain), from scratch in a new
 * one (Xen forgot its context and its doorbells).
 */
int smp_suspend(unsigned long *was_up)
{
    unsigned int id;
    int rc;

    *was_up = 0;
    for ( id = 1; id < nr_vcpus; id++ )
    {
        if ( percpus[id].state == VCPU_STUCK )
            rc = -XEN_EBUSY;            /* Xen would save it mid-call */
        else if ( percpus[id].state != VCPU_RUNNING )
            continue;
        else
            rc = smp_stop(id);
        if ( rc )
        {
            printk("smp: vCPU %u cannot be stopped for a suspend: %d\n", id,
                   rc);
            smp_resume(*was_up, false);
            return rc;
        }
        *was_up |= 1UL << id;
    }
    return 0;
}

unsigned int smp_resume(unsigned long was_up, bool new_domain)
{
    unsigned int id, back = 0;
    int rc;

    for ( id = 1; id < nr_vcpus; id++ )
    {
        if ( new_domain && percpus[id].state != VCPU_NEW )
            percpus[id].state = VCPU_NEW;
        if ( !(was_up & (1UL << id)) )
            continue;
        if ( (rc = smp_start(id)) != 0 )
            printk("smp: vCPU %u did not come back after the resume: %d\n",
                   id, rc);
        else
            back++;
    }
    return back;
}

unsigned int smp_nr_running(void)
{
    unsigned int id, n = 1;

    for ( id = 1; id < nr_vcpus; id++ )
        n += percpus[id].state == VCPU_RUNNING;
    return n;
}
