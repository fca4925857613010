/* lib/cmdline.c: every option, every error, and the bounds. */
#include <pvmm/cmdline.h>
#include "host_test.h"

static int parse(const char *line, struct boot_options *o, char *err)
{
    return cmdline_parse(line, strlen(line) + 1, o, err);
}

HOST_TEST(cmdline_empty_line_is_defaults)
{
    struct boot_options o;
    char err[CMDLINE_ERR_LEN];

    CHECK_EQ(parse("", &o, err), 0);
    CHECK_EQ(o.nr_globs, 0);
    CHECK(!o.verbose && !o.bench);
    CHECK_EQ(parse("    ", &o, err), 0);
}

HOST_TEST(cmdline_all_options)
{
    struct boot_options o;
    char err[CMDLINE_ERR_LEN];

    CHECK_EQ(parse("bench  tests=a.*,b.c verbose tests=d", &o, err), 0);
    CHECK(o.bench && o.verbose);
    CHECK_EQ(o.nr_globs, 3);
    CHECK_STREQ(o.globs[0], "a.*");
    CHECK_STREQ(o.globs[1], "b.c");
    CHECK_STREQ(o.globs[2], "d");
}

HOST_TEST(cmdline_dump_core_options)
{
    struct boot_options o;
    char err[CMDLINE_ERR_LEN];

    CHECK_EQ(parse("audit hold p2m_list=tree", &o, err), 0);
    CHECK(o.audit && o.hold && o.p2m_list == P2M_LIST_TREE && !o.p2m_map);
    CHECK_EQ(parse("p2m_map", &o, err), 0);
    CHECK(o.p2m_map && !o.hold && !o.await_save);
    CHECK_EQ(parse("await_save hold", &o, err), 0);
    CHECK(o.await_save && o.hold);
    CHECK_EQ(parse("await_save=1", &o, err), -1);
    CHECK_EQ(parse("p2m_map=1", &o, err), -1);
    CHECK_EQ(parse("p2m_list=linear", &o, err), 0);
    CHECK(o.p2m_list == P2M_LIST_LINEAR);
    CHECK_EQ(parse("p2m_list=both", &o, err), -1);
    CHECK_STREQ(err, "unknown option 'p2m_list=both'");
}

HOST_TEST(cmdline_unknown_option)
{
    struct boot_options o;
    char err[CMDLINE_ERR_LEN];

    CHECK_EQ(parse("verbose frobnicate", &o, err), -1);
    CHECK_STREQ(err, "unknown option 'frobnicate'");
    CHECK_EQ(parse("verbose=1", &o, err), -1);
    CHECK_STREQ(err, "unknown option 'verbose=1'");
    CHECK_EQ(parse("test=foo", &o, err), -1);
    CHECK_STREQ(err, "unknown option 'test=foo'");
}

HOST_TEST(cmdline_long_word_is_quoted_with_ellipsis)
{
    struct boot_options o;
    char err[CMDLINE_ERR_LEN];
    char line[200];

    memset(line, 'x', 100);
    line[100] = '\0';
    CHECK_EQ(parse(line, &o, err), -1);
    CHECK_STREQ(err, "unknown option "
                "'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'...");
}

HOST_TEST(cmdline_bad_patterns)
{
    struct boot_options o;
    char err[CMDLINE_ERR_LEN];

    CHECK_EQ(parse("tests=", &o, err), -1);
    CHECK_STREQ(err, "no test pattern in 'tests='");
    CHECK_EQ(parse("tests=a,,b", &o, err), -1);
    CHECK_STREQ(err, "empty test pattern in 'tests=a,,b'");
    CHECK_EQ(parse("tests=a,", &o, err), -1);
    CHECK_STREQ(err, "empty test pattern in 'tests=a,'");
    CHECK_EQ(parse("tests=,a", &o, err), -1);
}

HOST_TEST(cmdline_pattern_length_limit)
{
    struct boot_options o;
    char err[CMDLINE_ERR_LEN];
    char line[128] = "tests=";

    memset(line + 6, 'p', 63);
    line[6 + 63] = '\0';
    CHECK_EQ(parse(line, &o, err), 0);     /* 63 fits */
    CHECK_EQ(strlen(o.globs[0]), 63);
    line[6 + 63] = 'p';
    line[6 + 64] = '\0';
    CHECK_EQ(parse(line, &o, err), -1);    /* 64 does not: no truncation */
    CHECK(strstr(err, "longer than 63") != NULL);
}

HOST_TEST(cmdline_pattern_count_limit)
{
    struct boot_options o;
    char err[CMDLINE_ERR_LEN];
    char line[256] = "tests=";
    int i;

    for ( i = 0; i < 16; i++ )
        strcat(line, i ? ",g" : "g");
    CHECK_EQ(parse(line, &o, err), 0);
    CHECK_EQ(o.nr_globs, 16);
    strcat(line, ",extra");
    CHECK_EQ(parse(line, &o, err), -1);
    CHECK_STREQ(err, "more than 16 test patterns, at 'extra'");
}

HOST_TEST(cmdline_not_nul_terminated)
{
    struct boot_options o;
    char err[CMDLINE_ERR_LEN];
    const char line[] = { 'b', 'e', 'n', 'c', 'h', 'Z', 'Z' };

    CHECK_EQ(cmdline_parse(line, 5, &o, err), 0);
    CHECK(o.bench);
    CHECK_EQ(cmdline_parse(line, sizeof(line), &o, err), -1);
    CHECK_STREQ(err, "unknown option 'benchZZ'");
}

HOST_TEST(cmdline_remap_max)
{
    struct boot_options o;
    char err[CMDLINE_ERR_LEN];

    CHECK_EQ(parse("audit", &o, err), 0);
    CHECK(!o.remap_limited);
    CHECK_EQ(parse("remap_max=40", &o, err), 0);
    CHECK(o.remap_limited);
    CHECK_EQ(o.remap_max, 40);
    CHECK_EQ(parse("remap_max=0x10", &o, err), 0);
    CHECK_EQ(o.remap_max, 16);
    CHECK_EQ(parse("remap_max=0", &o, err), 0);
    CHECK(o.remap_limited && o.remap_max == 0);
    CHECK_EQ(parse("remap_max=", &o, err), -1);
    CHECK_STREQ(err, "remap_max= needs a number of frames, not 'remap_max='");
    CHECK_EQ(parse("remap_max=4x", &o, err), -1);
    CHECK_EQ(parse("remap_max=99999999999999999999999", &o, err), -1);
}

HOST_TEST(cmdline_vcpus)
{
    struct boot_options o;
    char err[CMDLINE_ERR_LEN];

    CHECK_EQ(parse("audit", &o, err), 0);
    CHECK_EQ(o.vcpus, 0);
    CHECK_EQ(parse("vcpus=2", &o, err), 0);
    CHECK_EQ(o.vcpus, 2);
    CHECK_EQ(parse("vcpus=0", &o, err), -1);
    CHECK_STREQ(err, "vcpus= needs a number of vCPUs from 1, not 'vcpus=0'");
    CHECK_EQ(parse("vcpus=", &o, err), -1);
    CHECK_EQ(parse("vcpus=two", &o, err), -1);
}
