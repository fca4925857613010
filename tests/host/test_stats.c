/* lib/stats.c */
#include <pvmm/stats.h>
#include "host_test.h"

HOST_TEST(stats_median_and_spread)
{
    uint64_t odd[] = { 9, 1, 5, 7, 3 }, even[] = { 40, 10, 30, 20 };
    uint64_t one[] = { 42 };
    struct summary s = summarise(odd, 5);

    CHECK_EQ(s.median, 5);
    CHECK_EQ(s.min, 1);
    CHECK_EQ(s.max, 9);
    s = summarise(even, 4);
    CHECK_EQ(s.median, 20);             /* the lower middle */
    CHECK_EQ(s.max, 40);
    s = summarise(one, 1);
    CHECK(s.median == 42 && s.min == 42 && s.max == 42);
}
