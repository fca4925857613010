/*
 * In-guest tests.
 *
 * A test is a void function registered with TEST(group, name); the macro
 * puts a descriptor in the .tests section, which the runner walks.  An
 * assertion that fails records file:line, the expression and both values,
 * and returns from the test function (so use assertions only in the test
 * body or in void helpers, and check the helper with ASSERT_OK_HELPER).
 *
 * TEST_EXPLICIT tests run only when named in full by tests=, never through
 * a wildcard: they are the harness's own must-fail checks.
 */
#ifndef PVMM_TEST_H
#define PVMM_TEST_H

#include <pvmm/types.h>
#include <pvmm/cmdline.h>

enum test_status {          /* ordered: a run's status only gets worse */
    TEST_SUCCESS,
    TEST_SKIP,
    TEST_ERROR,
    TEST_FAILURE,
};

struct test_case {
    const char *group;
    const char *name;
    void (*fn)(void);
    bool explicit_only;
};

#define TEST_DEFINE_(group, name, explicit)                             \
    static void test_##group##_##name(void);                            \
    static const struct test_case test_case_##group##_##name            \
        __section(".tests") __used __aligned(8) = {                     \
        #group, #name, test_##group##_##name, explicit };               \
    static void test_##group##_##name(void)

#define TEST(group, name)           TEST_DEFINE_(group, name, false)
#define TEST_EXPLICIT(group, name)  TEST_DEFINE_(group, name, true)

void test_fail_cmp(const char *file, int line, const char *a,
                   const char *op, const char *b, uint64_t va, uint64_t vb);
void test_fail(const char *file, int line, const char *fmt, ...)
    __printf(3, 4);
void test_skip(const char *fmt, ...) __printf(1, 2);
bool test_failed(void);

/*
 * Compares as unsigned 64-bit values (so check a negative return code with
 * ASSERT_EQ or ASSERT_TRUE(rc < 0), not ASSERT_LT); both are printed.
 */
#define ASSERT_OP_(a, op, b)                                            \
    do {                                                                \
        uint64_t a_ = (uint64_t)(a), b_ = (uint64_t)(b);                \
        if ( !(a_ op b_) )                                              \
        {                                                               \
            test_fail_cmp(__FILE__, __LINE__, #a, #op, #b, a_, b_);     \
            return;                                                     \
        }                                                               \
    } while ( 0 )

#define ASSERT_EQ(a, b) ASSERT_OP_(a, ==, b)
#define ASSERT_NE(a, b) ASSERT_OP_(a, !=, b)
#define ASSERT_LT(a, b) ASSERT_OP_(a, <, b)
#define ASSERT_LE(a, b) ASSERT_OP_(a, <=, b)
#define ASSERT_GT(a, b) ASSERT_OP_(a, >, b)
#define ASSERT_GE(a, b) ASSERT_OP_(a, >=, b)

#define ASSERT_TRUE(cond)                                               \
    do {                                                                \
        if ( !(cond) )                                                  \
        {                                                               \
            test_fail(__FILE__, __LINE__, "%s is false", #cond);        \
            return;                                                     \
        }                                                               \
    } while ( 0 )

#define ASSERT_STREQ(a, b)                                              \
    do {                                                                \
        const char *a_ = (a), *b_ = (b);                                \
        if ( strcmp(a_, b_) )                                           \
        {                                                               \
            test_fail(__FILE__, __LINE__, "%s == %s: \"%s\" != \"%s\"", \
                      #a, #b, a_, b_);                                  \
            return;                                                     \
        }                                                               \
    } while ( 0 )

/* Fails with a message of the caller's choosing. */
#define FAIL(...)                                                       \
    do {                                                                \
        test_fail(__FILE__, __LINE__, __VA_ARGS__);                     \
        return;                                                         \
    } while ( 0 )

#define SKIP(...)                                                       \
    do {                                                                \
        test_skip(__VA_ARGS__);                                         \
        return;                                                         \
    } while ( 0 )

/* After calling a void helper that may have failed an assertion. */
#define ASSERT_OK_HELPER()                                              \
    do {                                                                \
        if ( test_failed() )                                            \
            return;                                                     \
    } while ( 0 )

/* A run's outcome so far. */
struct test_run {
    unsigned int counts[TEST_FAILURE + 1];  /* tests per final status */
    enum test_status status;                /* only ever gets worse */
};

/*
 * Runs the tests opts selects.  setup_error (or NULL) is a problem found
 * before the tests, such as a bad command line: it is printed and no test
 * runs.
 */
void test_run(const struct boot_options *opts, const char *setup_error,
              struct test_run *run);

/* Something after the tests went wrong (a benchmark could not run). */
void test_run_error(struct test_run *run, const char *why);

/* The summary line and, last of all, the result line. */
void test_report(const struct test_run *run);

const char *test_status_name(enum test_status status);

#endif /* PVMM_TEST_H */
