/* lib/glob.c */
#include <pvmm/lib.h>
#include "host_test.h"

HOST_TEST(glob_literals_and_wildcards)
{
    CHECK(glob_match("boot.m2p", "boot.m2p"));
    CHECK(!glob_match("boot.m2p", "boot.m2px"));
    CHECK(!glob_match("boot.m2px", "boot.m2p"));
    CHECK(glob_match("*", ""));
    CHECK(glob_match("", ""));
    CHECK(!glob_match("", "a"));
    CHECK(glob_match("b?ot.*", "boot.anything"));
    CHECK(!glob_match("?", ""));
}

HOST_TEST(glob_backtracking)
{
    CHECK(glob_match("*a*b*c", "xaybzcaaabbbc"));
    CHECK(glob_match("*.*p", "p2m.set_in_missing_gig.p"));
    CHECK(!glob_match("*ab", "aba"));
    CHECK(glob_match("**x", "yyx"));
    CHECK(glob_match("a*", "a"));
}
