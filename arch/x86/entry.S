/*
 * Exception and event entry points.
 *
 * Xen delivers an exception on the kernel stack as
 *     rcx, r11, [error code], rip, cs, rflags, rsp, ss
 * (rcx and r11 are on top because Xen used them to get here).  Each stub
 * pops rcx/r11 back into their registers, pushes a zero error code where the
 * CPU gives none and the vector number, so that every handler sees one
 * layout: struct cpu_regs in include/pvmm/traps.h.
 *
 * The way out is __HYPERVISOR_iret, which wants
 *     rax, r11, rcx, flags, rip, cs, rflags, rsp, ss
 * on the stack at the syscall, and restores the event mask from rflags.IF.
 * Xen's iret stub itself pushes rcx, r11 and rax, so the guest pushes only
 * the flags word and jumps to the stub with those three registers loaded.
 */
#include <xen/xen.h>

#define VEC_EVENT  256

.macro EXC_NOERR name, vec
    .globl \name
\name:
    pop     %rcx
    pop     %r11
    push    $0
    push    $\vec
    jmp     exc_common
.endm

.macro EXC_ERR name, vec
    .globl \name
\name:
    pop     %rcx
    pop     %r11
    push    $\vec
    jmp     exc_common
.endm

    .text
EXC_NOERR exc_divide_error,        0
EXC_NOERR exc_debug,               1
EXC_NOERR exc_nmi,                 2
EXC_NOERR exc_int3,                3
EXC_NOERR exc_overflow,            4
EXC_NOERR exc_bounds,              5
EXC_NOERR exc_invalid_op,          6
EXC_NOERR exc_device_not_avail,    7
EXC_ERR   exc_double_fault,        8
EXC_NOERR exc_coproc_overrun,      9
EXC_ERR   exc_invalid_tss,        10
EXC_ERR   exc_segment_not_present,11
EXC_ERR   exc_stack_fault,        12
EXC_ERR   exc_general_protection, 13
EXC_ERR   exc_page_fault,         14
EXC_NOERR exc_spurious_int,       15
EXC_NOERR exc_x87_fpu_error,      16
EXC_ERR   exc_alignment_check,    17
EXC_NOERR exc_machine_check,      18
EXC_NOERR exc_simd_error,         19
EXC_NOERR event_callback,         VEC_EVENT

exc_common:
    push    %rax
    push    %rbx
    push    %rcx
    push    %rdx
    push    %rsi
    push    %rdi
    push    %rbp
    push    %r8
    push    %r9
    push    %r10
    push    %r11
    push    %r12
    push    %r13
    push    %r14
    push    %r15

    mov     %rsp, %rdi
    mov     %rsp, %rbp          /* rbp is callee-saved: it survives the call */
    and     $-16, %rsp          /* the ABI wants 16-byte alignment at a call */
    call    trap_handle
    mov     %rbp, %rsp

    pop     %r15
    pop     %r14
    pop     %r13
    pop     %r12
    pop     %r11
    pop     %r10
    pop     %r9
    pop     %r8
    pop     %rbp
    pop     %rdi
    pop     %rsi
    pop     %rdx
    pop     %rcx
    pop     %rbx
    pop     %rax
    add     $16, %rsp           /* vector and error code */

    push    $0                  /* iret flags: not returning from syscall */
    jmp     hypercall_page + __HYPERVISOR_iret * 32

/*
 * Xen calls the failsafe callback when it cannot load a segment register on
 * the way back to the guest.  The frame is rcx, r11, ds, es, fs, gs, rip,
 * cs, rflags, rsp, ss.  Nothing sensible can continue: report and stop.
 */
    .globl failsafe_callback
failsafe_callback:
    mov     %rsp, %rdi
    and     $-16, %rsp
    call    failsafe_handle
    ud2

/*
 * A secondary vCPU's first instruction (arch/x86/smp.c): Xen loaded rsp
 * (its stack's top, 16-byte aligned) and rdi (its id) from the context
 * VCPUOP_initialise was given.
 */
    .globl smp_secondary_entry
smp_secondary_entry:
    cld
    call    smp_secondary_main
    ud2
