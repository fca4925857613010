/*
 * The xenstore client against the real xenstored of the Linux dom0 that
 * xl runs (domU only: a dom0 booted by Xen has no xenstored).  The
 * daemon is the witness: it resolves relative paths, lists directories,
 * keeps values and fires watches on its own.
 */
#include <pvmm/test.h>
#include <pvmm/xenstore.h>
#include <pvmm/time.h>
#include <pvmm/lib.h>
#include <pvmm/printk.h>

#define MS  (1000UL * 1000)

#define NEED_XENSTORE()                                                 \
    do {                                                                \
        if ( !xs_available() )                                          \
            SKIP("no xenstore: a dom0 that Xen booted has no xenstored"); \
    } while ( 0 )

static bool ends_with(const char *s, const char *tail)
{
    size_t n = strlen(s), t = strlen(tail);

    return n >= t && !strcmp(s + n - t, tail);
}

/* The daemon resolves "name" against our home; so must the full path. */
TEST(xenstore, relative_and_absolute_paths_agree)
{
    char domid[16], name[64], full[64], path[64];
    long n;

    NEED_XENSTORE();
    n = xs_read("domid", domid, sizeof(domid));
    ASSERT_TRUE(n > 0);
    ASSERT_TRUE(xs_read("name", name, sizeof(name)) > 0);
    snprintf(path, sizeof(path), "/local/domain/%s/name", domid);
    ASSERT_EQ(xs_read(path, full, sizeof(full)), (long)strlen(name));
    ASSERT_STREQ(full, name);
}

/*
 * The daemon's errors arrive as codes: a missing key in our own tree is
 * ENOENT; outside it, a domU may not even learn that (EACCES).
 */
TEST(xenstore, errors_arrive_as_codes)
{
    char buf[16];

    NEED_XENSTORE();
    ASSERT_EQ(xs_read("data/pvmm-no-such-key", buf, sizeof(buf)),
              -XEN_ENOENT);
    ASSERT_EQ(xs_read("/pvmm/no/such/key", buf, sizeof(buf)), -XEN_EACCES);
    ASSERT_EQ(xs_rm("data/pvmm-no-such-dir/key"), -XEN_ENOENT);
    ASSERT_TRUE(xs_available());        /* errors are replies, not faults */
}

/* Written values come back, the directory lists them, rm takes them. */
TEST(xenstore, write_list_and_remove)
{
    char buf[64];
    unsigned int count;
    long n;

    NEED_XENSTORE();
    ASSERT_EQ(xs_write("data/pvmm-test/a", "1"), 0);
    ASSERT_EQ(xs_write("data/pvmm-test/bb", "twenty-two"), 0);
    ASSERT_EQ(xs_read("data/pvmm-test/bb", buf, sizeof(buf)), 10);
    ASSERT_STREQ(buf, "twenty-two");
    n = xs_directory("data/pvmm-test", buf, sizeof(buf), &count);
    ASSERT_EQ(count, 2);
    ASSERT_EQ(n, 5);                    /* "a\0bb\0" */
    ASSERT_TRUE((!strcmp(buf, "a") && !strcmp(buf + 2, "bb")) ||
                (!strcmp(buf, "bb") && !strcmp(buf + 3, "a")));
    ASSERT_EQ(xs_rm("data/pvmm-test"), 0);
    ASSERT_EQ(xs_read("data/pvmm-test/a", buf, sizeof(buf)), -XEN_ENOENT);
    ASSERT_EQ(xs_directory("data/pvmm-test", buf, sizeof(buf), &count),
              -XEN_ENOENT);
    ASSERT_EQ(count, 0);
}

/*
 * A reply larger than the caller's buffer is refused whole, and the ring
 * stays in step: the next request gets its own reply.
 */
TEST(xenstore, a_reply_that_does_not_fit_is_refused_not_cut)
{
    char value[101], small[10], big[128];

    NEED_XENSTORE();
    memset(value, 'v', 100);
    value[100] = '\0';
    ASSERT_EQ(xs_write("data/pvmm-big", value), 0);
    ASSERT_EQ(xs_read("data/pvmm-big", small, sizeof(small)), -XEN_E2BIG);
    ASSERT_EQ(xs_read("data/pvmm-big", big, 100), -XEN_E2BIG);  /* no NUL */
    ASSERT_EQ(xs_read("data/pvmm-big", big, sizeof(big)), 100);
    ASSERT_STREQ(big, value);
    ASSERT_EQ(xs_rm("data/pvmm-big"), 0);
}

TEST(xenstore, a_request_over_the_protocol_limit_is_refused)
{
    static char value[4100];

    NEED_XENSTORE();
    memset(value, 'x', sizeof(value) - 1);
    ASSERT_EQ(xs_write("data/pvmm-huge", value), -XEN_E2BIG);
    ASSERT_TRUE(xs_available());        /* nothing was sent */
}

/* xenstored fires a new watch at once, then on each write, not after. */
TEST(xenstore, watch_fires_on_register_and_on_write_until_unwatched)
{
    char path[64], token[16];

    NEED_XENSTORE();
    ASSERT_EQ(xs_write("data/pvmm-watched", "0"), 0);
    ASSERT_EQ(xs_watch("data/pvmm-watched", "tok1"), 0);
    ASSERT_EQ(xs_read_watch(path, sizeof(path), token, sizeof(token),
                            time_now_ns() + 5000 * MS), 0);
    ASSERT_STREQ(token, "tok1");
    ASSERT_EQ(xs_write("data/pvmm-watched", "1"), 0);
    ASSERT_EQ(xs_read_watch(path, sizeof(path), token, sizeof(token),
                            time_now_ns() + 5000 * MS), 0);
    ASSERT_STREQ(token, "tok1");
    ASSERT_TRUE(ends_with(path, "data/pvmm-watched"));
    ASSERT_EQ(xs_unwatch("data/pvmm-watched", "tok1"), 0);
    ASSERT_EQ(xs_write("data/pvmm-watched", "2"), 0);
    ASSERT_EQ(xs_read_watch(path, sizeof(path), token, sizeof(token),
                            time_now_ns() + 200 * MS), -XEN_ETIMEDOUT);
    ASSERT_EQ(xs_rm("data/pvmm-watched"), 0);
    ASSERT_EQ(xs_watch_events_lost(), 0);
}

/* Without a store every call says so, and nothing waits. */
TEST(xenstore, without_a_store_calls_say_so)
{
    char buf[8];

    if ( xs_available() )
        SKIP("a domU: the store is there");
    ASSERT_EQ(xs_read("name", buf, sizeof(buf)), -XEN_ENODEV);
    ASSERT_EQ(xs_write("data/x", "1"), -XEN_ENODEV);
    ASSERT_EQ(xs_read_watch(buf, sizeof(buf), buf, sizeof(buf),
                            time_now_ns() + 1000 * MS), -XEN_ENODEV);
}
