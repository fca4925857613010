/*
 * Command-line parsing.  Pure logic: the host unit tests compile this file
 * unchanged.  Nothing is truncated silently: a pattern that does not fit,
 * or one pattern too many, is an error that says so.
 */
#include <pvmm/cmdline.h>
#include <pvmm/printk.h>
#include <pvmm/lib.h>

/* Longest piece of a bad word quoted back in an error message. */
#define QUOTE_MAX   48

static bool word_is(const char *w, size_t len, const char *name)
{
    return strlen(name) == len && !strncmp(w, name, len);
}

static int fail(char *err, const char *what, const char *w, size_t len)
{
    snprintf(err, CMDLINE_ERR_LEN, "%s '%.*s'%s", what,
             (int)MIN(len, QUOTE_MAX), w, len > QUOTE_MAX ? "..." : "");
    return -1;
}

/* A decimal number, or hex after 0x, filling all of s[0..len). */
bool cmdline_parse_ulong(const char *s, size_t len, unsigned long *out)
{
    unsigned int base = 10, d;
    unsigned long v = 0;
    size_t i = 0;

    if ( len > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') )
    {
        base = 16;
        i = 2;
    }
    if ( i == len )
        return false;
    for ( ; i < len; i++ )
    {
        char c = s[i];

        if ( c >= '0' && c <= '9' )
            d = c - '0';
        else if ( base == 16 && c >= 'a' && c <= 'f' )
            d = c - 'a' + 10;
        else if ( base == 16 && c >= 'A' && c <= 'F' )
            d = c - 'A' + 10;
        else
            return false;
        if ( v > (~0UL - d) / base )
            return false;               /* overflow */
        v = v * base + d;
    }
    *out = v;
    return true;
}

/* Adds the comma-separated patterns of the word "tests=..." w[0..len). */
static int parse_tests(const char *w, size_t len, struct boot_options *opts,
                       char *err)
{
    const char *v = w + 6, *end = w + len;

    if ( v == end )
        return fail(err, "no test pattern in", w, len);
    for ( ; ; )
    {
        const char *comma = v;
        size_t n;

        while ( comma < end && *comma != ',' )
            comma++;
        n = comma - v;
        if ( !n )
            return fail(err, "empty test pattern in", w, len);
        if ( n >= CMDLINE_GLOB_LEN )
            return fail(err, "test pattern longer than 63 characters", v, n);
        if ( opts->nr_globs == CMDLINE_MAX_GLOBS )
            return fail(err, "more than 16 test patterns, at", v, n);
        memcpy(opts->globs[opts->nr_globs], v, n);
        opts->globs[opts->nr_globs++][n] = '\0';
        if ( comma == end )
            return 0;
        v = comma + 1;
    }
}

/* Adds the comma-separated rules of the word "inject=..." w[0..len). */
static int parse_inject(const char *w, size_t len, struct boot_options *opts,
                        char *err)
{
    const char *v = w + 7, *end = w + len, *comma;

    for ( ; ; v = comma + 1 )
    {
        for ( comma = v; comma < end && *comma != ','; comma++ )
            continue;
        if ( opts->nr_inject == INJECT_KINDS )
            return fail(err, "more inject rules than kinds, at", v,
                        comma - v);
        if ( inject_parse_rule(v, comma - v, &opts->inject[opts->nr_inject],
                               err, CMDLINE_ERR_LEN) )
            return -1;
        opts->nr_inject++;
        if ( comma == end )
            return 0;
    }
}

static int parse_word(const char *w, size_t len, struct boot_options *opts,
                      char *err)
{
    if ( len >= 6 && !strncmp(w, "tests=", 6) )
        return parse_tests(w, len, opts, err);
    if ( len >= 7 && !strncmp(w, "inject=", 7) )
        return parse_inject(w, len, opts, err);
    if ( len >= 10 && !strncmp(w, "remap_max=", 10) )
    {
        if ( !cmdline_parse_ulong(w + 10, len - 10, &opts->remap_max) )
            return fail(err, "remap_max= needs a number of frames, not", w,
                        len);
        opts->remap_limited = true;
        return 0;
    }
    if ( len >= 6 && !strncmp(w, "vcpus=", 6) )
    {
        if ( !cmdline_parse_ulong(w + 6, len - 6, &opts->vcpus) ||
             !opts->vcpus )
            return fail(err, "vcpus= needs a number of vCPUs from 1, not",
                        w, len);
        return 0;
    }
    if ( word_is(w, len, "verbose") )
        opts->verbose = true;
    else if ( word_is(w, len, "bench") )
        opts->bench = true;
    else if ( word_is(w, len, "audit") )
        opts->audit = true;
    else if ( word_is(w, len, "hold") )
        opts->hold = true;
    else if ( word_is(w, len, "await_save") )
        opts->await_save = true;
    else if ( word_is(w, len, "p2m_map") )
        opts->p2m_map = true;
    else if ( word_is(w, len, "p2m_list=tree") )
        opts->p2m_list = P2M_LIST_TREE;
    else if ( word_is(w, len, "p2m_list=linear") )
        opts->p2m_list = P2M_LIST_LINEAR;
    else
        return fail(err, "unknown option", w, len);
    return 0;
}

int cmdline_parse(const char *cmdline, size_t max_len,
                  struct boot_options *opts, char err[CMDLINE_ERR_LEN])
{
    const char *p = cmdline, *end = cmdline + strnlen(cmdline, max_len);

    memset(opts, 0, sizeof(*opts));
    err[0] = '\0';
    while ( p < end )
    {
        const char *w;

        while ( p < end && *p == ' ' )
            p++;
        w = p;
        while ( p < end && *p != ' ' )
            p++;
        if ( p > w && parse_word(w, p - w, opts, err) )
            return -1;
    }
    return 0;
}
