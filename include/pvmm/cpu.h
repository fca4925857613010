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

#endif /* PVMM_CPU_H */
