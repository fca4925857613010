/*
 * The end of a run that cannot go on.
 */
#include <pvmm/panic.h>
#include <pvmm/traps.h>
#include <pvmm/printk.h>
#include <pvmm/console.h>
#include <pvmm/sched.h>
#include <pvmm/time.h>
#include <pvmm/lib.h>
#include <pvmm/xen.h>

static bool panicking;

static void __noreturn panic_finish(const struct cpu_regs *regs,
                                    const char *fmt, va_list ap)
{
    if ( panicking )
        sched_shutdown(SHUTDOWN_crash);     /* a panic inside a panic */
    panicking = true;

    printk("PANIC: ");
    vprintk(fmt, ap);
    printk("\n");
    regs_dump(regs);
    printk("Test result: ERROR\n");
    (void)cons_flush(CONS_RING_WAIT_NS);
    sched_shutdown(SHUTDOWN_crash);
}

/* The caller's registers as far as C can see them. */
static inline __attribute__((always_inline))
void capture_regs(struct cpu_regs *r)
{
    memset(r, 0, sizeof(*r));
    asm volatile ( "mov %%rbx, %0; mov %%rbp, %1; mov %%r12, %2;"
                   "mov %%r13, %3; mov %%r14, %4; mov %%r15, %5;"
                   "mov %%rsp, %6; mov %%cs, %7; mov %%ss, %8"
                   : "=m" (r->rbx), "=m" (r->rbp), "=m" (r->r12),
                     "=m" (r->r13), "=m" (r->r14), "=m" (r->r15),
                     "=m" (r->rsp), "=m" (r->cs), "=m" (r->ss) );
    r->rip = (uint64_t)__builtin_return_address(0);
    r->vector = ~0UL;
}

void panic(const char *fmt, ...)
{
    struct cpu_regs regs;
    va_list ap;

    capture_regs(&regs);
    va_start(ap, fmt);
    panic_finish(&regs, fmt, ap);
}

void panic_regs(const struct cpu_regs *regs, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    panic_finish(regs, fmt, ap);
}
