/*
 * include/pvmm/time.h: the TSC-to-ns scaling, against clocks whose answer
 * is known (N seconds of ticks at F Hz is N seconds), not against the
 * formula again.
 */
#include <pvmm/time.h>
#include "host_test.h"

/* 2 GHz: half a ns per tick is mul 2^31, shift 0. */
HOST_TEST(time_scale_2ghz_ten_seconds)
{
    CHECK_EQ(time_scale_delta(20000000000UL, 1U << 31, 0),
             10 * NSEC_PER_SEC);
    CHECK_EQ(time_scale_delta(2, 1U << 31, 0), 1);
    CHECK_EQ(time_scale_delta(1, 1U << 31, 0), 0);     /* rounds down */
}

/*
 * 500 MHz: 2 ns per tick is 2^2 * 2^31 / 2^32.  Ten seconds of ticks
 * shifted is 2e10; times 2^31 is past 2^64, so 64-bit arithmetic fails.
 */
HOST_TEST(time_scale_positive_shift_needs_128_bits)
{
    CHECK_EQ(time_scale_delta(5000000000UL, 1U << 31, 2), 10 * NSEC_PER_SEC);
}

/* 8 GHz: 1/8 ns per tick is 2^-2 * 2^31 / 2^32. */
HOST_TEST(time_scale_negative_shift)
{
    CHECK_EQ(time_scale_delta(80000000000UL, 1U << 31, -2),
             10 * NSEC_PER_SEC);
    /* A day of ticks at 8 GHz still fits. */
    CHECK_EQ(time_scale_delta(86400UL * 8000000000UL, 1U << 31, -2),
             86400UL * NSEC_PER_SEC);
}

/* 3 GHz, as Xen would scale it: mul = 2^32 / 3, shift 0. */
HOST_TEST(time_scale_uneven_frequency)
{
    uint32_t mul = (uint32_t)((1ULL << 32) / 3);
    uint64_t ns = time_scale_delta(3000000000UL * 60, mul, 0);

    /* mul is rounded down, so a minute comes out a little short. */
    CHECK(ns <= 60 * NSEC_PER_SEC);
    CHECK(ns > 60 * NSEC_PER_SEC - 100);
}
