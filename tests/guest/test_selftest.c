/*
 * The harness checking itself.  These must fail; they run only when named
 * in full (tests=selftest.NAME) and tests/run-selftest.sh checks that the
 * runner reports each one with the right exit code and message.
 */
#include <pvmm/test.h>
#include <pvmm/shared_info.h>
#include <pvmm/pmap.h>
#include <pvmm/inject.h>
#include <pvmm/p2m_boot.h>
#include <pvmm/printk.h>
#include <pvmm/spinlock.h>

TEST_EXPLICIT(selftest, assertion_fails)
{
    unsigned long expected = xen_start_info->nr_pages + 1;

    ASSERT_EQ(xen_start_info->nr_pages, expected);
}

TEST_EXPLICIT(selftest, unexpected_fault_panics)
{
    (void)*(volatile uint64_t *)0x00007fff00000008UL;
}

/* One mapping more than PMAP has slots: the panic names every holder. */
TEST_EXPLICIT(selftest, pmap_exhaustion_panics)
{
    unsigned int i;

    for ( i = 0; i <= PMAP_SLOTS; i++ )
        (void)pmap_map(pfn_to_mfn(_pfn(i)), false);
}

/*
 * Xen refusing a PMAP mapping (an injected -EPERM): the kernel cannot
 * reach the frame and must not go on; the panic names the mfn, the slot
 * and the holder, after the multicall layer has printed the refusal.
 */
TEST_EXPLICIT(selftest, pmap_refused_mapping_panics)
{
    const struct inject_rule refuse = {
        .kind = INJECT_UPDATE_VA_MAPPING, .nth = 1, .value = -XEN_EPERM,
    };

    inject_arm(&refuse);
    (void)pmap_map(pfn_to_mfn(_pfn(1)), false);
}

/*
 * A second result line: a runner must not take the first one and ignore
 * what follows it (tests/run-dom0.sh reads the whole console).
 */
TEST_EXPLICIT(selftest, second_result_line_is_an_error)
{
    printk("Test result: SUCCESS\n");
}

/* Two locks taken against their order: the panic names both. */
TEST_EXPLICIT(selftest, lock_order_violation_panics)
{
    static struct spinlock a = SPINLOCK_INIT("selftest.a", 1);
    static struct spinlock b = SPINLOCK_INIT("selftest.b", 2);

    spin_lock(&b);
    spin_lock(&a);
}

/* A lock taken twice by one vCPU would spin forever: it panics instead. */
TEST_EXPLICIT(selftest, recursive_lock_panics)
{
    static struct spinlock a = SPINLOCK_INIT("selftest.a", 1);

    spin_lock(&a);
    spin_lock(&a);
}
