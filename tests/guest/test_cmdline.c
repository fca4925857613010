/*
 * The command-line parser and glob matcher, in the guest.  The host unit
 * tests (tests/host/) run the same code with more cases; these check that
 * the freestanding build behaves the same.
 */
#include <pvmm/test.h>
#include <pvmm/cmdline.h>
#include <pvmm/shared_info.h>
#include <pvmm/lib.h>

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

/*
 * A second reading of the boot line, written apart from lib/cmdline.c and
 * as plainly as possible: split at spaces, compare whole words.  It knows
 * only what it needs to check the parser's flags and patterns.
 */
struct model {
    bool verbose, bench, audit, hold, await_save, p2m_map;
    unsigned int globs;
    const char *glob[CMDLINE_MAX_GLOBS];    /* start of each, in the line */
    unsigned int glob_len[CMDLINE_MAX_GLOBS];
};

static bool word_eq(const char *w, unsigned int len, const char *lit)
{
    unsigned int i;

    for ( i = 0; i < len && lit[i]; i++ )
        if ( w[i] != lit[i] )
            return false;
    return i == len && !lit[i];
}

static void model_word(struct model *m, const char *w, unsigned int len)
{
    unsigned int i, start = 6;

    m->verbose |= word_eq(w, len, "verbose");
    m->bench |= word_eq(w, len, "bench");
    m->audit |= word_eq(w, len, "audit");
    m->hold |= word_eq(w, len, "hold");
    m->await_save |= word_eq(w, len, "await_save");
    m->p2m_map |= word_eq(w, len, "p2m_map");
    if ( len < 6 || w[0] != 't' || w[1] != 'e' || w[2] != 's' ||
         w[3] != 't' || w[4] != 's' || w[5] != '=' )
        return;
    for ( i = 6; i <= len; i++ )
        if ( (i == len || w[i] == ',') && m->globs < CMDLINE_MAX_GLOBS )
        {
            m->glob[m->globs] = w + start;
            m->glob_len[m->globs++] = i - start;
            start = i + 1;
        }
}

static void model_line(struct model *m, const char *line, unsigned int max)
{
    unsigned int i = 0, w;

    *m = (struct model){ 0 };
    while ( i < max && line[i] )
    {
        while ( i < max && line[i] == ' ' )
            i++;
        for ( w = i; i < max && line[i] && line[i] != ' '; i++ )
            continue;
        if ( i > w )
            model_word(m, line + w, i - w);
    }
}

/* The options this kernel runs with are what its boot line says. */
TEST(cmdline, boot_line_parsed)
{
    const char *line = (const char *)xen_start_info->cmd_line;
    struct model m;
    unsigned int i;

    model_line(&m, line, sizeof(xen_start_info->cmd_line));
    ASSERT_EQ(boot_opts.verbose, m.verbose);
    ASSERT_EQ(boot_opts.bench, m.bench);
    ASSERT_EQ(boot_opts.audit, m.audit);
    ASSERT_EQ(boot_opts.hold, m.hold);
    ASSERT_EQ(boot_opts.await_save, m.await_save);
    ASSERT_EQ(boot_opts.p2m_map, m.p2m_map);
    ASSERT_EQ(boot_opts.nr_globs, m.globs);
    for ( i = 0; i < m.globs; i++ )
        if ( !word_eq(m.glob[i], m.glob_len[i], boot_opts.globs[i]) )
            FAIL("pattern %u: the parser has '%s', the line '%.*s'", i,
                 boot_opts.globs[i], (int)m.glob_len[i], m.glob[i]);
}
