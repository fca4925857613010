/* CPU feature detection (arch/x86/cpu.c). */
#ifndef PVMM_CPU_H
#define PVMM_CPU_H

#include <pvmm/types.h>

void cpu_init(void);

/*
 * How Xen presents the TSC to this domain: its CPUID time leaf (leaf 4 of
 * Xen's range, sub-leaf 0), read with the forced-emulation prefix so that
 * Xen, not the CPU, answers.
 */
struct cpu_xen_tsc {
    bool emulated;          /* each rdtsc traps to Xen */
    bool reliable;          /* Xen trusts the host TSC across CPUs */
    uint32_t mode;          /* tsc_mode: 0 default, 1 always emulate, ... */
    uint32_t khz;           /* the TSC frequency this domain sees */
};

/* Fills *tsc and returns true, or false if Xen's leaves are not found. */
bool cpu_xen_tsc_info(struct cpu_xen_tsc *tsc);

/*
 * CR3 as Xen has it: a PV kernel runs outside ring 0, so the read traps
 * and Xen answers with the machine address of the root it runs on.  An
 * independent view of which tree is live (tests use it after a resume).
 */
static inline unsigned long read_cr3(void)
{
    unsigned long cr3;

    asm volatile ( "mov %%cr3, %0" : "=r" (cr3) );
    return cr3;
}

#endif /* PVMM_CPU_H */
