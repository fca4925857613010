/*
 * Secondary vCPUs: per-vCPU data, bring-up, down and up, and calls.
 *
 * Every vCPU's kernel GS base points at its struct percpu, so code that
 * runs anywhere finds its own data with one %gs-relative load; vCPU 0's
 * is set at boot, a secondary's in the context it starts with.
 *
 * A secondary is started once with VCPUOP_initialise (Xen refuses a
 * second time) and VCPUOP_up.  It enters smp_secondary_main() on its own
 * stack, on this kernel's root pagetable, with the boot vCPU's trap table
 * and callbacks and events masked, and loops: it runs the function vCPU 0
 * posts in its mailbox, then says it has finished.  Only vCPU 0 changes a
 * vCPU's state; a secondary writes only its `entered` flag and its
 * `finished` count, so x86's ordering of plain stores is all the mailbox
 * needs (the compiler is held by barrier()).
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
    void (*fn)(void *arg);
    void *arg;
    unsigned long requested;        /* calls posted (vCPU 0) */
    unsigned long finished;         /* calls done (the secondary) */
};

static struct percpu percpus[SMP_MAX_VCPUS] __aligned(64);
static uint8_t smp_stacks[SMP_MAX_VCPUS][SMP_STACK_SIZE] __aligned(16);
static struct vcpu_guest_context start_context;     /* 5 KiB: not on a stack */
static unsigned int nr_vcpus = 1;

void smp_secondary_entry(void);     /* entry.S */

static void init_percpu(struct percpu *pc, unsigned int id)
{
    pc->self = pc;
    pc->id = id;
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
static void build_context(unsigned int id, struct vcpu_guest_context *c)
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
    c->kernel_ss = FLAT_KERNEL_SS;
    c->kernel_sp = top;
    c->ctrlreg[3] = xen_pfn_to_cr3(mfn_x(pt_kernel_root()));
    c->gs_base_kernel = (unsigned long)&percpus[id];
    traps_fill_context(c);
}

static int initialise(unsigned int id)
{
    long rc;

    init_percpu(&percpus[id], id);
    /* Its events stay masked: nothing on a secondary takes an upcall. */
    WRITE_ONCE(xen_shared_info->vcpu_info[id].evtchn_upcall_mask, 1);
    build_context(id, &start_context);
    rc = HYPERVISOR_vcpu_op(VCPUOP_initialise, id, &start_context);
    if ( rc )
        printk("smp: VCPUOP_initialise(%u) failed: %ld\n", id, rc);
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
    if ( pc->state == VCPU_STUCK &&
         READ_ONCE(pc->finished) == pc->requested )
        pc->state = VCPU_RUNNING;       /* the late call has finished */
    if ( pc->state == VCPU_RUNNING )
        return 0;
    if ( pc->state == VCPU_STUCK )
        return -XEN_EBUSY;
    if ( pc->state == VCPU_NEW && (rc = initialise(id)) != 0 )
        return rc;
    pc->state = VCPU_DOWN;
    if ( (rc = HYPERVISOR_vcpu_op(VCPUOP_up, id, NULL)) != 0 )
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
 * says 0).  Down means Xen's runstate says offline.
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
        if ( rs.state == RUNSTATE_offline )
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
    if ( (rc = HYPERVISOR_vcpu_op(VCPUOP_down, id, NULL)) != 0 )
    {
        printk("smp: VCPUOP_down(%u) failed: %ld\n", id, rc);
        return rc;
    }
    percpus[id].state = VCPU_DOWN;
    if ( (rc = wait_offline(id)) != 0 )
        printk("smp: vCPU %u is down but not offline: %ld\n", id, rc);
    return rc;
}

int smp_call(unsigned int id, void (*fn)(void *arg), void *arg,
             uint64_t timeout_ns)
{
    struct percpu *pc = &percpus[id];
    uint64_t deadline;
    unsigned long seq;

    if ( id == 0 || id >= nr_vcpus || pc->state != VCPU_RUNNING )
        return -XEN_EINVAL;
    pc->fn = fn;
    pc->arg = arg;
    barrier();                      /* the call before its number */
    seq = pc->requested + 1;
    WRITE_ONCE(pc->requested, seq);
    deadline = time_now_ns() + timeout_ns;
    while ( READ_ONCE(pc->finished) != seq )
    {
        if ( time_now_ns() > deadline )
        {
            printk("smp: vCPU %u did not finish call %lu in %lu ms: "
                   "stuck\n", id, seq, timeout_ns / NSEC_PER_MSEC);
            pc->state = VCPU_STUCK;
            return -XEN_ETIMEDOUT;
        }
        (void)HYPERVISOR_sched_op(SCHEDOP_yield, NULL);
    }
    barrier();                      /* its results after its number */
    return 0;
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
            (void)HYPERVISOR_sched_op(SCHEDOP_yield, NULL);
            continue;
        }
        barrier();
        pc->fn(pc->arg);
        barrier();
        WRITE_ONCE(pc->finished, seq);
    }
}
