/*
 * Entry from Xen's domain builder.
 *
 * State on entry (x86-64 PV): ring 3 with the flat kernel selectors, events
 * masked in vcpu_info[0], %rsi = virtual address of start_info, %rsp inside
 * the builder's area.  We move to our own stack and go to C.
 */
#include <pvmm/layout.h>
#include <pvmm/hypercall.h>       /* HYPERCALL_PAGE_POISON */

    .section .text.head, "ax", @progbits
    .globl _start
_start:
    cld
    mov     %rsp, boot_entry_rsp(%rip)  /* marks the end of Xen's stack */
    lea     boot_stack + BOOT_STACK_SIZE(%rip), %rsp
    mov     %rsi, %rdi
    call    start_kernel
    ud2

/*
 * Xen overwrites this page with its hypercall stubs while building the
 * domain.  It is poisoned here so that hypercall_page_check() can tell an
 * unfilled page from a filled one instead of jumping into garbage.
 */
    .section .text.hypercall_page, "ax", @progbits
    .balign 4096
    .globl hypercall_page
hypercall_page:
    .fill 4096, 1, HYPERCALL_PAGE_POISON

    .section .bss
    .balign 8
    .globl boot_entry_rsp
boot_entry_rsp:
    .quad 0

    .section .bss.page_aligned, "aw", @nobits
    .balign 4096
    .globl boot_stack
boot_stack:
    .skip BOOT_STACK_SIZE
