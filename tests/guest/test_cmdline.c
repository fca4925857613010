/*
 * The command-line parser and glob matcher, in the guest.  The host unit
 * tests (tests/host/) run the same code with more cases; these check that
 * the freestanding build behaves the same.
 */
#include <pvmm/test.h>
#include <pvmm/cmdline.h>
#include <pvmm/shared_info.h>
#include <pvmm/lib.h>

extern struct boot_options boot_opts;

TEST(cmdline, options_and_patterns)
{
    struct boot_options o;
    char err[CMDLINE_ERR_LEN];
    const char line[] = "  verbose tests=boot.*,traps.? bench ";

    ASSERT_EQ(cmdline_parse(line, sizeof(line), &o, err), 0);
    ASSERT_TRUE(o.verbose);
    ASSERT_TRUE(o.bench);
    ASSERT_EQ(o.nr_globs, 2);
    ASSERT_STREQ(o.globs[0], "boot.*");
    ASSERT_STREQ(o.globs[1], "traps.?");
    ASSERT_STREQ(err, "");
}

TEST(cmdline, unknown_option_is_named)
{
    struct boot_options o;
    char err[CMDLINE_ERR_LEN];
    const char line[] = "verbose bogus=1";

    ASSERT_EQ(cmdline_parse(line, sizeof(line), &o, err), -1);
    ASSERT_STREQ(err, "unknown option 'bogus=1'");
}

TEST(cmdline, not_nul_terminated_is_bounded)
{
    struct boot_options o;
    char err[CMDLINE_ERR_LEN];
    const char line[] = { 'b', 'e', 'n', 'c', 'h', 'X' };

    ASSERT_EQ(cmdline_parse(line, 5, &o, err), 0);
    ASSERT_TRUE(o.bench);
}

TEST(cmdline, glob_matching)
{
    ASSERT_TRUE(glob_match("*", "boot.m2p"));
    ASSERT_TRUE(glob_match("boot.*", "boot.m2p"));
    ASSERT_TRUE(glob_match("*.m2p", "boot.m2p"));
    ASSERT_TRUE(glob_match("b??t.*p", "boot.m2p"));
    ASSERT_TRUE(!glob_match("boot", "boot.m2p"));
    ASSERT_TRUE(!glob_match("traps.*", "boot.m2p"));
    ASSERT_TRUE(glob_match("*a*b*", "xxaxxbxx"));
    ASSERT_TRUE(!glob_match("*a*b", "xxaxxbxx"));
}

/* The line this kernel booted with parses to what the runner used. */
TEST(cmdline, boot_line_parsed)
{
    struct boot_options o;
    char err[CMDLINE_ERR_LEN];
    unsigned int i;

    ASSERT_EQ(cmdline_parse((const char *)xen_start_info->cmd_line,
                            sizeof(xen_start_info->cmd_line), &o, err), 0);
    ASSERT_EQ(o.nr_globs, boot_opts.nr_globs);
    ASSERT_EQ(o.verbose, boot_opts.verbose);
    for ( i = 0; i < o.nr_globs; i++ )
        ASSERT_STREQ(o.globs[i], boot_opts.globs[i]);
}
