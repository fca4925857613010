/*
 * Small helpers the tests that use secondary vCPUs share.
 */
#ifndef TESTS_GUEST_SMP_HELPERS_H
#define TESTS_GUEST_SMP_HELPERS_H

#include <pvmm/test.h>
#include <pvmm/smp.h>
#include <pvmm/time.h>

/* True with a second vCPU; else marks the test skipped, saying how. */
static inline bool need_secondaries(void)
{
    if ( smp_nr_vcpus() >= 2 )
        return true;
    test_skip("1 vCPU: boot with VCPUS=2 (dom0_max_vcpus=) or xl vcpus=2");
    return false;
}

/*
 * Waits (sleeping in 10 ms steps) until another vCPU sets *flag, at most
 * timeout_ns; the flag's value then.
 */
static inline unsigned long wait_for_flag(const unsigned long *flag,
                                          uint64_t timeout_ns)
{
    uint64_t deadline = time_now_ns() + timeout_ns;

    while ( !READ_ONCE(*flag) && time_now_ns() < deadline )
        time_sleep_until(time_now_ns() + 10 * NSEC_PER_MSEC);
    return READ_ONCE(*flag);
}

#endif /* TESTS_GUEST_SMP_HELPERS_H */
