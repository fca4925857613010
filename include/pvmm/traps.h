/*
 * Exceptions: the register frame every handler sees, the trap table, and
 * the exception table that lets a caller say "this access may fault".
 */
#ifndef PVMM_TRAPS_H
#define PVMM_TRAPS_H

#include <pvmm/types.h>

#define VEC_DE      0
#define VEC_UD      6
#define VEC_GP      13
#define VEC_PF      14
#define VEC_EVENT   256     /* the event-channel upcall, not a CPU vector */

/* Page-fault error code bits. */
#define PFEC_PRESENT    (1U << 0)
#define PFEC_WRITE      (1U << 1)
#define PFEC_USER       (1U << 2)
#define PFEC_RSVD       (1U << 3)
#define PFEC_INSN       (1U << 4)

/* Layout built by arch/x86/entry.S; lowest address first. */
struct cpu_regs {
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
    uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
    uint64_t vector, error_code;
    uint64_t rip, cs, rflags, rsp, ss;
};

/* What a caught fault looked like. */
struct exc_fault {
    unsigned int vector;
    uint64_t error_code;
    uint64_t cr2;           /* from vcpu_info; meaningful for #PF only */
    uint64_t rip;
};

/* Installs the trap table and the event and failsafe callbacks. */
void traps_init(void);

struct vcpu_guest_context;
/* A secondary vCPU's trap table and callbacks: the boot vCPU's. */
void traps_fill_context(struct vcpu_guest_context *c);

void trap_handle(struct cpu_regs *regs);

/*
 * Probes: perform one 8-byte access.  Return true if it faulted, and then
 * fill *fault; return false (and leave *fault alone) if it did not.
 */
bool exc_probe_read(const volatile void *va, uint64_t *val,
                    struct exc_fault *fault);
bool exc_probe_write(volatile void *va, uint64_t val,
                     struct exc_fault *fault);

const char *trap_name(unsigned int vector);
void regs_dump(const struct cpu_regs *regs);

#endif /* PVMM_TRAPS_H */
