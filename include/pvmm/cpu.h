/* CPU feature detection (arch/x86/cpu.c). */
#ifndef PVMM_CPU_H
#define PVMM_CPU_H

void cpu_init(void);

#endif /* PVMM_CPU_H */
