/*
 * Checking the hypercall page before trusting it.
 *
 * head.S fills the page with int3 (0xcc); Xen overwrites every stub while
 * building the domain, if it honoured the HYPERCALL_PAGE ELF note.  A stub
 * that still starts with 0xcc means Xen did not: calling it would trap
 * into a handler we cannot install (set_trap_table is a hypercall too).
 *
 * The way out does not use the page.  On x86-64 PV a `syscall` from guest
 * kernel mode is a hypercall, which is exactly what Xen's stubs contain,
 * so we issue the two we need (console_io, sched_op) by hand.
 */
#include <pvmm/hypercall.h>
#include <pvmm/lib.h>

/* Every hypercall the kernel makes. */
static const unsigned int used_hypercalls[] = {
    __HYPERVISOR_set_trap_table, __HYPERVISOR_mmu_update,
    __HYPERVISOR_memory_op, __HYPERVISOR_multicall,
    __HYPERVISOR_update_va_mapping, __HYPERVISOR_xen_version,
    __HYPERVISOR_console_io, __HYPERVISOR_iret, __HYPERVISOR_vm_assist,
    __HYPERVISOR_mmuext_op, __HYPERVISOR_sched_op,
    __HYPERVISOR_callback_op, __HYPERVISOR_event_channel_op,
    __HYPERVISOR_vcpu_op, __HYPERVISOR_set_segment_base,
};

static long raw_hypercall3(unsigned long nr, unsigned long a1,
                           unsigned long a2, unsigned long a3)
{
    long ret;

    asm volatile ( "syscall"
                   : "=a" (ret), "+D" (a1), "+S" (a2), "+d" (a3)
                   : "0" (nr)
                   : "memory", "rcx", "r11", "r10", "r8" );
    return ret;
}

static void __noreturn refuse_to_run(unsigned int nr)
{
    static const char msg[] =
        "pvmm: PANIC: Xen did not fill the hypercall page (the stub for "
        "hypercall ??? still holds the build-time poison); is the ELF "
        "note HYPERCALL_PAGE missing?\r\nTest result: ERROR\r\n";
    char buf[sizeof(msg)];
    char *digits;
    struct sched_shutdown crash = { .reason = SHUTDOWN_crash };

    memcpy(buf, msg, sizeof(msg));
    digits = buf + (strchr(msg, '?') - msg);
    digits[0] = '0' + nr / 100;
    digits[1] = '0' + nr / 10 % 10;
    digits[2] = '0' + nr % 10;

    raw_hypercall3(__HYPERVISOR_console_io, CONSOLEIO_write,
                   sizeof(buf) - 1, (unsigned long)buf);
    for ( ; ; )
        raw_hypercall3(__HYPERVISOR_sched_op, SCHEDOP_shutdown,
                       (unsigned long)&crash, 0);
}

void hypercall_page_check(void)
{
    unsigned int i, nr;

    for ( i = 0; i < ARRAY_SIZE(used_hypercalls); i++ )
    {
        nr = used_hypercalls[i];
        if ( (uint8_t)hypercall_page[nr * 32] == HYPERCALL_PAGE_POISON )
            refuse_to_run(nr);
    }
}
