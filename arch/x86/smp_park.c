/*
 * Parking the other vCPUs: vCPU 0 runs something (the p2m auditor) that
 * must see no other vCPU change anything meanwhile.
 *
 * smp_quiesce() raises `park_wanted` and posts a parking call to every
 * idle secondary; a secondary busy with a call parks at its next
 * smp_park_point(), which long-running calls reach between steps.  A
 * parked vCPU counts itself in `nr_parked` and spins until released.
 * vCPU 0 waits until every running secondary is parked, or gives up at
 * the deadline and releases those that did: a call that never reaches a
 * park point is an error with a clear message, not a hang.
 *
 * Why spin and not poll: a parked vCPU is released within microseconds,
 * and a poll would need one more doorbell per secondary.  Only vCPU 0
 * quiesces (smp_post's rule).
 */
#include <pvmm/smp.h>
#include <pvmm/time.h>
#include <pvmm/printk.h>

static bool park_wanted;
static unsigned long nr_parked;
static bool parked_by_call[SMP_MAX_VCPUS];

void smp_park_point(void)
{
    if ( !READ_ONCE(park_wanted) )
        return;
    __atomic_add_fetch(&nr_parked, 1, __ATOMIC_SEQ_CST);
    while ( READ_ONCE(park_wanted) )
        asm volatile ( "pause" ::: "memory" );
    __atomic_sub_fetch(&nr_parked, 1, __ATOMIC_SEQ_CST);
}

static void park_call(void *arg)
{
    (void)arg;
    smp_park_point();
}

/*
 * Posts a parking call to each idle secondary not sent one yet; returns
 * how many running secondaries must park, or an error.
 */
static int post_parking_calls(void)
{
    unsigned int id, expected = 0;
    int rc;

    for ( id = 1; id < smp_nr_vcpus(); id++ )
    {
        if ( parked_by_call[id] )
        {
            expected++;
            continue;
        }
        rc = smp_try_post(id, park_call, NULL);
        if ( rc < 0 )
            return rc;
        if ( rc == SMP_NOT_RUNNING )
            continue;
        parked_by_call[id] = rc == SMP_POSTED;  /* busy: at a park point */
        expected++;
    }
    return expected;
}

int smp_quiesce(uint64_t timeout_ns)
{
    uint64_t deadline = time_now_ns() + timeout_ns;
    int expected;

    WRITE_ONCE(park_wanted, true);
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    for ( ;; )
    {
        expected = post_parking_calls();
        if ( expected >= 0 &&
             __atomic_load_n(&nr_parked, __ATOMIC_SEQ_CST) ==
             (unsigned long)expected )
            return 0;
        if ( expected < 0 || time_now_ns() > deadline )
        {
            printk("smp: quiesce: %lu of %d running vCPUs parked%s (%d)\n",
                   nr_parked, expected,
                   expected < 0 ? "" : " in time: a call without park points?",
                   expected < 0 ? expected : -XEN_ETIMEDOUT);
            smp_unquiesce();
            return expected < 0 ? expected : -XEN_ETIMEDOUT;
        }
        asm volatile ( "pause" ::: "memory" );
    }
}

void smp_unquiesce(void)
{
    unsigned int id;

    WRITE_ONCE(park_wanted, false);
    for ( id = 1; id < smp_nr_vcpus(); id++ )
    {
        if ( parked_by_call[id] && smp_wait(id, SMP_IDLE_POLL_NS) )
            printk("smp: vCPU %u did not leave its parking call\n", id);
        parked_by_call[id] = false;
    }
}
