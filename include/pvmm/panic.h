/*
 * panic(): for states the kernel must not continue from (a refused
 * pagetable operation, an unexpected exception).  Prints "PANIC: <why>",
 * the registers, and "Test result: ERROR", lets the console drain, and
 * crashes the domain.
 */
#ifndef PVMM_PANIC_H
#define PVMM_PANIC_H

#include <pvmm/types.h>

struct cpu_regs;

void __noreturn panic(const char *fmt, ...) __printf(1, 2);
void __noreturn panic_regs(const struct cpu_regs *regs, const char *fmt, ...)
    __printf(2, 3);

#define BUG_ON(cond)                                                    \
    do {                                                                \
        if ( cond )                                                     \
            panic("BUG_ON(%s) at %s:%d", #cond, __FILE__, __LINE__);   \
    } while ( 0 )

#endif /* PVMM_PANIC_H */
