/*
 * Event channels against Xen: a loopback pair (EVTCHNOP_alloc_unbound and
 * EVTCHNOP_bind_interdomain to ourselves), so a send on one end must make
 * the other pending, as Xen decides, not our code.  Runs as dom0 and domU.
 */
#include <pvmm/test.h>
#include <pvmm/events.h>
#include <pvmm/hypercall.h>
#include <pvmm/time.h>

#define MS  (1000UL * 1000)

struct loopback {
    evtchn_port_t a, b;
};

static int loopback_open(struct loopback *l)
{
    struct evtchn_alloc_unbound au = {
        .dom = DOMID_SELF, .remote_dom = DOMID_SELF,
    };
    struct evtchn_bind_interdomain bi = { .remote_dom = DOMID_SELF };
    int rc = HYPERVISOR_event_channel_op(EVTCHNOP_alloc_unbound, &au);

    if ( rc )
        return rc;
    bi.remote_port = au.port;
    rc = HYPERVISOR_event_channel_op(EVTCHNOP_bind_interdomain, &bi);
    l->a = au.port;
    l->b = bi.local_port;
    (void)evtchn_test_and_clear(l->a);
    (void)evtchn_test_and_clear(l->b);
    return rc;
}

static void loopback_close(const struct loopback *l)
{
    struct evtchn_close c = { .port = l->a };

    (void)HYPERVISOR_event_channel_op(EVTCHNOP_close, &c);
    c.port = l->b;
    (void)HYPERVISOR_event_channel_op(EVTCHNOP_close, &c);
}

TEST(events, send_makes_the_other_end_pending)
{
    struct loopback l;
    int rc = loopback_open(&l), woke;

    ASSERT_EQ(rc, 0);
    ASSERT_NE(l.a, l.b);
    rc = evtchn_send(l.a);
    woke = evtchn_wait(l.b, time_now_ns() + 1000 * MS);
    loopback_close(&l);
    ASSERT_EQ(rc, 0);
    ASSERT_EQ(woke, 0);
    ASSERT_TRUE(!evtchn_test_and_clear(l.b));      /* the wait took it */
    ASSERT_TRUE(!evtchn_test_and_clear(l.a));      /* only the far end */
}

TEST(events, wait_without_an_event_times_out)
{
    struct loopback l;
    uint64_t t0, waited;
    int rc;

    ASSERT_EQ(loopback_open(&l), 0);
    t0 = time_now_ns();
    rc = evtchn_wait(l.b, t0 + 50 * MS);
    waited = time_now_ns() - t0;
    loopback_close(&l);
    ASSERT_EQ(rc, -XEN_ETIMEDOUT);
    ASSERT_GE(waited, 50 * MS);
    ASSERT_LT(waited, 5000 * MS);
}

static void count_event(evtchn_port_t port, void *ctx)
{
    (void)port;
    ++*(unsigned int *)ctx;
}

TEST(events, a_bound_handler_runs_once_per_event)
{
    struct loopback l;
    unsigned int count = 0, ran1, ran2, ran3;
    int rc;

    ASSERT_EQ(loopback_open(&l), 0);
    rc = evtchn_bind(l.b, count_event, &count);
    if ( !rc )
        rc = evtchn_send(l.a);
    ran1 = evtchn_dispatch();
    ran2 = evtchn_dispatch();
    evtchn_unbind(l.b);
    (void)evtchn_send(l.a);
    ran3 = evtchn_dispatch();
    loopback_close(&l);
    ASSERT_EQ(rc, 0);
    ASSERT_EQ(ran1, 1);
    ASSERT_EQ(count, 1);
    ASSERT_EQ(ran2, 0);
    ASSERT_EQ(ran3, 0);                 /* unbound: nobody runs */
}

TEST(events, bind_refuses_bad_requests)
{
    unsigned int count = 0, i;
    int rc[EVTCHN_MAX_HANDLERS + 1], again;

    ASSERT_EQ(evtchn_bind(0, count_event, &count), -XEN_EINVAL);
    ASSERT_EQ(evtchn_bind(4096, count_event, &count), -XEN_EINVAL);
    ASSERT_EQ(evtchn_bind(4000, NULL, &count), -XEN_EINVAL);
    for ( i = 0; i <= EVTCHN_MAX_HANDLERS; i++ )
        rc[i] = evtchn_bind(4000 + i, count_event, &count);
    again = evtchn_bind(4000, count_event, &count);
    for ( i = 0; i <= EVTCHN_MAX_HANDLERS; i++ )
        evtchn_unbind(4000 + i);
    ASSERT_EQ(rc[0], 0);
    ASSERT_EQ(rc[EVTCHN_MAX_HANDLERS - 1], 0);
    ASSERT_EQ(rc[EVTCHN_MAX_HANDLERS], -XEN_ENOSPC);
    ASSERT_EQ(again, -XEN_EEXIST);
}

/*
 * A masked port still records an event (the mask only stops the upcall),
 * and after EVTCHNOP_unmask the port works as before.
 */
TEST(events, masked_port_still_records_the_event)
{
    struct loopback l;
    bool before, after;
    int rc;

    ASSERT_EQ(loopback_open(&l), 0);
    evtchn_mask(l.b);
    rc = evtchn_send(l.a);
    before = evtchn_wait(l.b, time_now_ns() + 1000 * MS) == 0;
    rc = rc ? rc : evtchn_unmask(l.b);
    (void)evtchn_send(l.a);
    after = evtchn_wait(l.b, time_now_ns() + 1000 * MS) == 0;
    loopback_close(&l);
    ASSERT_EQ(rc, 0);
    ASSERT_TRUE(before);
    ASSERT_TRUE(after);
}

TEST(events, send_on_a_closed_port_is_refused)
{
    struct loopback l;

    ASSERT_EQ(loopback_open(&l), 0);
    loopback_close(&l);
    ASSERT_TRUE(evtchn_send(l.a) < 0);
}
