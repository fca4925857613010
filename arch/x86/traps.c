/*
 * Trap table, event/failsafe callbacks, and the one C handler every
 * exception reaches (trap_handle).
 *
 * The kernel runs with events masked and binds no event channel it waits
 * on through upcalls, so an exception is either expected (its rip is in
 * the exception table, see arch/x86/probe.S) or a bug that ends the run
 * with a register dump.
 */
#include <pvmm/traps.h>
#include <pvmm/hypercall.h>
#include <pvmm/shared_info.h>
#include <pvmm/printk.h>
#include <pvmm/panic.h>
#include <pvmm/lib.h>
#include <pvmm/smp.h>

/* Entry stubs in entry.S. */
extern char exc_divide_error[], exc_debug[], exc_nmi[], exc_int3[];
extern char exc_overflow[], exc_bounds[], exc_invalid_op[];
extern char exc_device_not_avail[], exc_double_fault[];
extern char exc_coproc_overrun[], exc_invalid_tss[];
extern char exc_segment_not_present[], exc_stack_fault[];
extern char exc_general_protection[], exc_page_fault[];
extern char exc_spurious_int[], exc_x87_fpu_error[];
extern char exc_alignment_check[], exc_machine_check[], exc_simd_error[];
extern char event_callback[], failsafe_callback[];

/* Probes in probe.S. */
int exc_raw_read(const volatile void *va, uint64_t *val);
int exc_raw_write(volatile void *va, uint64_t val);

struct ex_entry {
    unsigned long fault_rip;
    unsigned long fixup_rip;
};
extern const struct ex_entry __start_ex_table[], __stop_ex_table[];

/* trap_info flags: bits 0-1 are the DPL that may raise it with INT n. */
#define TI_DPL0     0
#define TI_DPL3     3
#define TI_MASK_EVENTS  4

#define TRAP(vec, dpl, fn) \
    { (vec), (dpl) | TI_MASK_EVENTS, FLAT_KERNEL_CS, (unsigned long)(fn) }

static const struct trap_info trap_table[] = {
    TRAP(0,  TI_DPL0, exc_divide_error),
    TRAP(1,  TI_DPL0, exc_debug),
    TRAP(2,  TI_DPL0, exc_nmi),
    TRAP(3,  TI_DPL3, exc_int3),
    TRAP(4,  TI_DPL3, exc_overflow),
    TRAP(5,  TI_DPL3, exc_bounds),
    TRAP(6,  TI_DPL0, exc_invalid_op),
    TRAP(7,  TI_DPL0, exc_device_not_avail),
    TRAP(8,  TI_DPL0, exc_double_fault),
    TRAP(9,  TI_DPL0, exc_coproc_overrun),
    TRAP(10, TI_DPL0, exc_invalid_tss),
    TRAP(11, TI_DPL0, exc_segment_not_present),
    TRAP(12, TI_DPL0, exc_stack_fault),
    TRAP(13, TI_DPL0, exc_general_protection),
    TRAP(14, TI_DPL0, exc_page_fault),
    TRAP(15, TI_DPL0, exc_spurious_int),
    TRAP(16, TI_DPL0, exc_x87_fpu_error),
    TRAP(17, TI_DPL0, exc_alignment_check),
    TRAP(18, TI_DPL0, exc_machine_check),
    TRAP(19, TI_DPL0, exc_simd_error),
    { 0, 0, 0, 0 }
};

static const char *const trap_names[] = {
    "#DE divide error", "#DB debug", "NMI", "#BP breakpoint",
    "#OF overflow", "#BR bound range", "#UD invalid opcode",
    "#NM device not available", "#DF double fault",
    "coprocessor segment overrun", "#TS invalid TSS",
    "#NP segment not present", "#SS stack fault",
    "#GP general protection", "#PF page fault", "spurious interrupt",
    "#MF x87 error", "#AC alignment check", "#MC machine check",
    "#XM SIMD error",
};

/*
 * The fault a probe caught last on each vCPU; copied out by the probe
 * wrappers.  Per vCPU: two vCPUs may probe at once.
 */
static struct exc_fault exc_last_fault[SMP_MAX_VCPUS];

/*
 * A PV guest's cr2 lives in the faulting vCPU's vcpu_info; 0 until
 * shared_info is mapped.
 */
static uint64_t fault_cr2(void)
{
    return xen_shared_info
           ? smp_vcpu_info(smp_vcpu_id())->arch.cr2 : 0;
}

const char *trap_name(unsigned int vector)
{
    if ( vector < ARRAY_SIZE(trap_names) )
        return trap_names[vector];
    if ( vector == VEC_EVENT )
        return "event upcall";
    return "unknown vector";
}

static void register_callback(unsigned int type, void *fn)
{
    struct callback_register cb = {
        .type = type,
        .address = (unsigned long)fn,
        .flags = CALLBACKF_mask_events,
    };
    long rc = HYPERVISOR_callback_op(CALLBACKOP_register, &cb);

    if ( rc )
        panic("callback_op(register, type %u) failed: %ld", type, rc);
}

/* The same for a secondary vCPU, in the context it starts with. */
void traps_fill_context(struct vcpu_guest_context *c)
{
    const struct trap_info *t;

    for ( t = trap_table; t->address; t++ )
        c->trap_ctxt[t->vector] = *t;
    c->event_callback_eip = (unsigned long)event_callback;
    c->failsafe_callback_eip = (unsigned long)failsafe_callback;
    /* As CALLBACKF_mask_events does for the boot vCPU's failsafe. */
    c->flags |= VGCF_failsafe_disables_events;
}

void traps_init(void)
{
    long rc = HYPERVISOR_set_trap_table(trap_table);

    if ( rc )
        panic("set_trap_table failed: %ld", rc);
    register_callback(CALLBACKTYPE_event, event_callback);
    register_callback(CALLBACKTYPE_failsafe, failsafe_callback);
}

static const struct ex_entry *ex_lookup(unsigned long rip)
{
    const struct ex_entry *e;

    for ( e = __start_ex_table; e < __stop_ex_table; e++ )
        if ( e->fault_rip == rip )
            return e;
    return NULL;
}

/*
 * An upcall only arrives if something unmasked events.  Acknowledge it so
 * it does not repeat; nothing in the kernel waits on it.
 */
static void event_upcall(void)
{
    WRITE_ONCE(smp_vcpu_info(smp_vcpu_id())->evtchn_upcall_pending,
               0);
}

void trap_handle(struct cpu_regs *regs)
{
    const struct ex_entry *fixup;

    if ( regs->vector == VEC_EVENT )
    {
        event_upcall();
        return;
    }

    fixup = ex_lookup(regs->rip);
    if ( fixup )
    {
        exc_last_fault[smp_vcpu_id()] = (struct exc_fault){
            .vector = regs->vector,
            .error_code = regs->error_code,
            .cr2 = fault_cr2(),
            .rip = regs->rip,
        };
        regs->rip = fixup->fixup_rip;
        return;
    }

    panic_regs(regs, "unexpected %s (vector %lu) at rip %#lx",
               trap_name(regs->vector), regs->vector, regs->rip);
}

void failsafe_handle(const uint64_t *frame)
{
    panic("failsafe callback: Xen could not load segments "
          "(ds %#lx es %#lx fs %#lx gs %#lx) returning to rip %#lx",
          frame[2], frame[3], frame[4], frame[5], frame[6]);
}

bool exc_probe_read(const volatile void *va, uint64_t *val,
                    struct exc_fault *fault)
{
    if ( !exc_raw_read(va, val) )
        return false;
    *fault = exc_last_fault[smp_vcpu_id()];
    return true;
}

bool exc_probe_write(volatile void *va, uint64_t val,
                     struct exc_fault *fault)
{
    if ( !exc_raw_write(va, val) )
        return false;
    *fault = exc_last_fault[smp_vcpu_id()];
    return true;
}

void regs_dump(const struct cpu_regs *r)
{
    if ( r->vector != ~0UL )    /* ~0: captured by panic(), no exception */
        printk("  vector %lu (%s) error code %#lx\n",
               r->vector, trap_name(r->vector), r->error_code);
    /* Xen keeps the saved upcall mask in bits 32-39 of the cs slot. */
    printk("  rip %016lx cs %04lx rflags %016lx upcall mask %lu\n",
           r->rip, r->cs & 0xffff, r->rflags, (r->cs >> 32) & 0xff);
    printk("  rsp %016lx ss %04lx cr2 %016lx\n",
           r->rsp, r->ss, fault_cr2());
    printk("  rax %016lx rbx %016lx rcx %016lx\n", r->rax, r->rbx, r->rcx);
    printk("  rdx %016lx rsi %016lx rdi %016lx\n", r->rdx, r->rsi, r->rdi);
    printk("  rbp %016lx r8  %016lx r9  %016lx\n", r->rbp, r->r8, r->r9);
    printk("  r10 %016lx r11 %016lx r12 %016lx\n", r->r10, r->r11, r->r12);
    printk("  r13 %016lx r14 %016lx r15 %016lx\n", r->r13, r->r14, r->r15);
}
