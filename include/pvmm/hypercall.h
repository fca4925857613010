/*
 * Hypercall wrappers.
 *
 * Every hypercall goes through the stub Xen wrote at hypercall_page + 32*nr
 * (ELF note HYPERCALL_PAGE).  Arguments travel in rdi, rsi, rdx, r10, r8;
 * the result comes back in rax; rcx and r11 are clobbered, and a debug Xen
 * may scribble over the argument registers, so all of them are outputs too.
 *
 * Callers check every result: a negative value is a -XEN_E* error code.
 */
#ifndef PVMM_HYPERCALL_H
#define PVMM_HYPERCALL_H

/*
 * The byte boot/head.S fills the hypercall page with (int3): a stub that
 * still starts with it was never written by Xen (hypercall_page_check).
 * tests/check-elf.sh reads the value from here too.
 */
#define HYPERCALL_PAGE_POISON   0xcc

#ifndef __ASSEMBLY__
#include <pvmm/types.h>
#include <pvmm/xen.h>

extern char hypercall_page[];

static inline long hypercall5(unsigned int nr, unsigned long a1,
                              unsigned long a2, unsigned long a3,
                              unsigned long a4, unsigned long a5)
{
    register unsigned long r10 asm ( "r10" ) = a4;
    register unsigned long r8 asm ( "r8" ) = a5;
    long ret;

    asm volatile ( "call *%[stub]"
                   : "=a" (ret), "+D" (a1), "+S" (a2), "+d" (a3),
                     "+r" (r10), "+r" (r8)
                   : [stub] "r" (hypercall_page + nr * 32)
                   : "memory", "rcx", "r11" );
    return ret;
}

#define hypercall1(nr, a) hypercall5(nr, (unsigned long)(a), 0, 0, 0, 0)
#define hypercall2(nr, a, b) \
    hypercall5(nr, (unsigned long)(a), (unsigned long)(b), 0, 0, 0)
#define hypercall3(nr, a, b, c) \
    hypercall5(nr, (unsigned long)(a), (unsigned long)(b), \
               (unsigned long)(c), 0, 0)
#define hypercall4(nr, a, b, c, d) \
    hypercall5(nr, (unsigned long)(a), (unsigned long)(b), \
               (unsigned long)(c), (unsigned long)(d), 0)

static inline long HYPERVISOR_set_trap_table(const struct trap_info *traps)
{
    return hypercall1(__HYPERVISOR_set_trap_table, traps);
}

static inline long HYPERVISOR_mmu_update(mmu_update_t *req, unsigned int count,
                                         unsigned int *done, domid_t dom)
{
    return hypercall4(__HYPERVISOR_mmu_update, req, count, done, dom);
}

static inline long HYPERVISOR_mmuext_op(struct mmuext_op *op,
                                        unsigned int count,
                                        unsigned int *done, domid_t dom)
{
    return hypercall4(__HYPERVISOR_mmuext_op, op, count, done, dom);
}

static inline long HYPERVISOR_update_va_mapping(unsigned long va,
                                                uint64_t pte,
                                                unsigned long flags)
{
    return hypercall3(__HYPERVISOR_update_va_mapping, va, pte, flags);
}

static inline long HYPERVISOR_memory_op(unsigned int cmd, void *arg)
{
    return hypercall2(__HYPERVISOR_memory_op, cmd, arg);
}

static inline long HYPERVISOR_multicall(multicall_entry_t *calls,
                                        unsigned int count)
{
    return hypercall2(__HYPERVISOR_multicall, calls, count);
}

static inline long HYPERVISOR_console_io(unsigned int cmd, unsigned int count,
                                         const char *buf)
{
    return hypercall3(__HYPERVISOR_console_io, cmd, count, buf);
}

static inline long HYPERVISOR_sched_op(unsigned int cmd, void *arg)
{
    return hypercall2(__HYPERVISOR_sched_op, cmd, arg);
}

static inline long HYPERVISOR_callback_op(unsigned int cmd, void *arg)
{
    return hypercall2(__HYPERVISOR_callback_op, cmd, arg);
}

static inline long HYPERVISOR_event_channel_op(unsigned int cmd, void *arg)
{
    return hypercall2(__HYPERVISOR_event_channel_op, cmd, arg);
}

static inline long HYPERVISOR_xen_version(unsigned int cmd, void *arg)
{
    return hypercall2(__HYPERVISOR_xen_version, cmd, arg);
}

static inline long HYPERVISOR_vm_assist(unsigned int cmd, unsigned int type)
{
    return hypercall2(__HYPERVISOR_vm_assist, cmd, type);
}

static inline long HYPERVISOR_vcpu_op(unsigned int cmd, unsigned int vcpu,
                                      void *arg)
{
    return hypercall3(__HYPERVISOR_vcpu_op, cmd, vcpu, (unsigned long)arg);
}

static inline long HYPERVISOR_set_segment_base(unsigned int reg,
                                               unsigned long value)
{
    return hypercall2(__HYPERVISOR_set_segment_base, reg, value);
}

/* Checks the hypercall page before any hypercall; never returns if bad. */
void hypercall_page_check(void);
#endif /* __ASSEMBLY__ */

#endif /* PVMM_HYPERCALL_H */
