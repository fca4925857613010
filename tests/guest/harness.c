/*
 * The test runner, speaking the protocol of docs/testing.md:
 *
 *   [ RUN  ] group.name
 *   [ PASS ] group.name | [ FAIL ] group.name: why | [ SKIP ] group.name: why
 *   ...
 *   N passed, N failed, N skipped
 *   Test result: SUCCESS|SKIP|ERROR|FAILURE
 *
 * The run's status only gets more severe (as in XTF): any failure makes it
 * FAILURE; a setup error or a pattern that selects nothing makes it ERROR;
 * a run where everything selected skipped is SKIP.
 */
#include <pvmm/control.h>
#include <pvmm/test.h>
#include <pvmm/printk.h>
#include <pvmm/lib.h>
#include <pvmm/time.h>
#include <pvmm/p2m_boot.h>

#define WHY_LEN 384

extern const struct test_case __start_tests[], __stop_tests[];

/* State of the test that is running. */
static struct {
    enum test_status status;
    char why[WHY_LEN];
} cur;

const char *test_status_name(enum test_status status)
{
    static const char *const names[] = {
        [TEST_SUCCESS] = "SUCCESS", [TEST_SKIP] = "SKIP",
        [TEST_ERROR] = "ERROR", [TEST_FAILURE] = "FAILURE",
    };

    return names[status];
}

/* Records why; a message too long for the buffer is marked, not cut. */
static void set_why(const char *prefix, const char *fmt, va_list ap)
{
    static const char mark[] = " [message truncated]";
    size_t n = snprintf(cur.why, WHY_LEN, "%s", prefix);

    n += vsnprintf(cur.why + MIN(n, WHY_LEN - 1), WHY_LEN - MIN(n, WHY_LEN - 1),
                   fmt, ap);
    if ( n >= WHY_LEN )
        memcpy(cur.why + WHY_LEN - sizeof(mark), mark, sizeof(mark));
}

void test_fail(const char *file, int line, const char *fmt, ...)
{
    char where[96];
    va_list ap;

    if ( cur.status == TEST_FAILURE )
        return;                 /* keep the first failure */
    snprintf(where, sizeof(where), "%s:%d: ", file, line);
    va_start(ap, fmt);
    set_why(where, fmt, ap);
    va_end(ap);
    cur.status = TEST_FAILURE;
}

void test_fail_cmp(const char *file, int line, const char *a, const char *op,
                   const char *b, uint64_t va, uint64_t vb)
{
    test_fail(file, line, "%s %s %s: %s = %#lx (%ld), %s = %#lx (%ld)",
              a, op, b, a, va, (long)va, b, vb, (long)vb);
}

void test_skip(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    set_why("", fmt, ap);
    va_end(ap);
    cur.status = TEST_SKIP;
}

bool test_failed(void)
{
    return cur.status == TEST_FAILURE;
}

static bool has_wildcard(const char *glob)
{
    return strchr(glob, '*') || strchr(glob, '?');
}

static bool glob_selects(const char *glob, const struct test_case *t,
                         const char *full)
{
    if ( t->explicit_only && has_wildcard(glob) )
        return false;
    return glob_match(glob, full);
}

static bool selected(const struct boot_options *opts,
                     const struct test_case *t, const char *full)
{
    unsigned int i;

    if ( !opts->nr_globs )
        return !t->explicit_only;
    for ( i = 0; i < opts->nr_globs; i++ )
        if ( glob_selects(opts->globs[i], t, full) )
            return true;
    return false;
}

/* Returns the name of a pattern that selects no test, or NULL. */
static const char *unused_glob(const struct boot_options *opts)
{
    const struct test_case *t;
    char full[96];
    unsigned int i;

    for ( i = 0; i < opts->nr_globs; i++ )
    {
        for ( t = __start_tests; t < __stop_tests; t++ )
        {
            snprintf(full, sizeof(full), "%s.%s", t->group, t->name);
            if ( glob_selects(opts->globs[i], t, full) )
                break;
        }
        if ( t == __stop_tests )
            return opts->globs[i];
    }
    return NULL;
}

static enum test_status run_one(const struct test_case *t, const char *full,
                                const struct boot_options *opts)
{
    uint64_t start = time_now_ns();

    cur.status = TEST_SUCCESS;
    cur.why[0] = '\0';
    printk("[ RUN  ] %s\n", full);
    t->fn();
    if ( opts->audit && cur.status != TEST_FAILURE && p2m_audit() )
    {
        cur.status = TEST_FAILURE;
        snprintf(cur.why, WHY_LEN, "the p2m audit failed after the test "
                 "(the line above says where)");
    }
    /* Always: tests/junit.py reads durations from it. */
    printk("         %s took %lu ms\n", full,
           (time_now_ns() - start) / NSEC_PER_MSEC);
    if ( cur.status == TEST_FAILURE )
        printk("[ FAIL ] %s: %s\n", full, cur.why);
    else if ( cur.status == TEST_SKIP )
        printk("[ SKIP ] %s: %s\n", full, cur.why);
    else
        printk("[ PASS ] %s\n", full);
    return cur.status;
}

void test_run(const struct boot_options *opts, const char *setup_error,
              struct test_run *run)
{
    const struct test_case *t;
    const char *unused;
    enum test_status s;
    char full[96];

    *run = (struct test_run){ .status = TEST_SUCCESS };
    if ( setup_error )
        test_run_error(run, setup_error);
    else if ( (unused = unused_glob(opts)) != NULL )
    {
        printk("pvmm: tests=%s selects no test\n", unused);
        run->status = TEST_ERROR;
    }

    for ( t = __start_tests; run->status != TEST_ERROR && t < __stop_tests;
          t++ )
    {
        snprintf(full, sizeof(full), "%s.%s", t->group, t->name);
        if ( !selected(opts, t, full) )
            continue;
        s = run_one(t, full, opts);
        run->counts[s]++;
        run->status = MAX(run->status, s);
        /* xl shutdown, reboot or save, asked while the tests run. */
        (void)control_poll(0);
    }
    /* Nothing ran and nothing said why (an empty .tests): not a pass. */
    if ( run->status == TEST_SUCCESS && !run->counts[TEST_SUCCESS] &&
         !run->counts[TEST_SKIP] && !run->counts[TEST_FAILURE] )
        test_run_error(run, "no test ran");
}

void test_run_error(struct test_run *run, const char *why)
{
    printk("pvmm: %s\n", why);
    run->status = MAX(run->status, TEST_ERROR);
}

void test_report(const struct test_run *run)
{
    enum test_status status = run->status;

    if ( status == TEST_SKIP && run->counts[TEST_SUCCESS] )
        status = TEST_SUCCESS;      /* some skips among passes: fine */
    printk("%u passed, %u failed, %u skipped\n", run->counts[TEST_SUCCESS],
           run->counts[TEST_FAILURE], run->counts[TEST_SKIP]);
    printk("Test result: %s\n", test_status_name(status));
}
