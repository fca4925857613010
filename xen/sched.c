/*
 * Scheduler operations: yield while polling, and shutdown.
 */
#include <pvmm/sched.h>
#include <pvmm/hypercall.h>

void sched_yield(void)
{
    /* Cannot fail in a way we could act on: it is only a hint to Xen. */
    (void)HYPERVISOR_sched_op(SCHEDOP_yield, NULL);
}

void sched_shutdown(unsigned int reason)
{
    struct sched_shutdown arg = { .reason = reason };

    for ( ; ; )
    {
        /*
         * Returns only if Xen refused; as dom0 Xen may also leave us
         * running until the machine halts.  Block rather than spin.
         */
        (void)HYPERVISOR_sched_op(SCHEDOP_shutdown, &arg);
        (void)HYPERVISOR_sched_op(SCHEDOP_block, NULL);
    }
}
