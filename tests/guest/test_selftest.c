/*
 * The harness checking itself.  These must fail; they run only when named
 * in full (tests=selftest.NAME) and tests/run-selftest.sh checks that the
 * runner reports each one with the right exit code and message.
 */
#include <pvmm/test.h>
#include <pvmm/shared_info.h>

TEST_EXPLICIT(selftest, assertion_fails)
{
    unsigned long expected = xen_start_info->nr_pages + 1;

    ASSERT_EQ(xen_start_info->nr_pages, expected);
}

TEST_EXPLICIT(selftest, unexpected_fault_panics)
{
    (void)*(volatile uint64_t *)0x00007fff00000008UL;
}
