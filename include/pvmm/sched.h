/* Giving up the CPU, and ending the domain. */
#ifndef PVMM_SCHED_H
#define PVMM_SCHED_H

#include <pvmm/types.h>

void sched_yield(void);

/* SHUTDOWN_poweroff, SHUTDOWN_crash, ...; does not return. */
void __noreturn sched_shutdown(unsigned int reason);

#endif /* PVMM_SCHED_H */
