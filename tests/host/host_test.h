/*
 * A small unit-test harness for the pure-logic files (lib/format.c,
 * lib/cmdline.c, lib/glob.c) compiled for the build host.  Same spirit as
 * the in-guest one: an assertion prints file:line, the expression and both
 * values, and returns from the test.
 *
 * No <stdio.h> here: the tests see pvmm's snprintf (renamed for the host
 * build by the Makefile), and stdio's declaration would clash with it.
 */
#ifndef HOST_TEST_H
#define HOST_TEST_H

#include <string.h>
#include <stdint.h>

struct host_test {
    const char *name;
    void (*fn)(void);
    struct host_test *next;
};

void host_test_register(struct host_test *t);
void host_test_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define HOST_TEST(name)                                                 \
    static void host_test_##name(void);                                 \
    static struct host_test host_test_desc_##name = {                   \
        #name, host_test_##name, NULL };                                \
    __attribute__((constructor)) static void host_test_reg_##name(void) \
    {                                                                   \
        host_test_register(&host_test_desc_##name);                     \
    }                                                                   \
    static void host_test_##name(void)

#define CHECK_EQ(a, b)                                                  \
    do {                                                                \
        unsigned long long a_ = (unsigned long long)(a);                \
        unsigned long long b_ = (unsigned long long)(b);                \
        if ( a_ != b_ )                                                 \
        {                                                               \
            host_test_fail(__FILE__, __LINE__, "%s == %s: %#llx != %#llx", \
                           #a, #b, a_, b_);                             \
            return;                                                     \
        }                                                               \
    } while ( 0 )

#define CHECK_STREQ(a, b)                                               \
    do {                                                                \
        const char *a_ = (a), *b_ = (b);                                \
        if ( strcmp(a_, b_) )                                           \
        {                                                               \
            host_test_fail(__FILE__, __LINE__, "%s == %s: \"%s\" != \"%s\"", \
                           #a, #b, a_, b_);                             \
            return;                                                     \
        }                                                               \
    } while ( 0 )

#define CHECK(cond)                                                     \
    do {                                                                \
        if ( !(cond) )                                                  \
        {                                                               \
            host_test_fail(__FILE__, __LINE__, "%s is false", #cond);   \
            return;                                                     \
        }                                                               \
    } while ( 0 )

#endif /* HOST_TEST_H */
