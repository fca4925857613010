/*
 * Spinlocks (arch/x86/spinlock.c).  The contention tests run the same
 * loop on vCPU 0 and a secondary at once (smp_post, then smp_wait) and
 * check the one count a lost update would change.  The lock-order
 * panics are must-fail self-tests (tests/run-selftest.sh).
 */
#include <pvmm/test.h>
#include "smp_helpers.h"
#include <pvmm/spinlock.h>
#include <pvmm/smp.h>
#include <pvmm/shared_info.h>
#include <pvmm/time.h>
#include <pvmm/printk.h>

#define ROUNDS              20000
#define WORK_TIMEOUT_NS     (60 * NSEC_PER_SEC)

struct shared_count {
    struct spinlock lock;
    unsigned long count;            /* only changed under the lock */
    unsigned long waited;           /* rounds that found the lock taken */
};

static struct shared_count shared = {
    .lock = SPINLOCK_INIT("test.shared_count", 10),
};

/*
 * A read-modify-write with room for the other vCPU to slip in between:
 * without the lock, increments get lost.
 */
static void add_rounds(void *arg)
{
    struct shared_count *s = arg;
    unsigned long i, v;

    for ( i = 0; i < ROUNDS; i++ )
    {
        if ( READ_ONCE(s->lock.taken) )
            __atomic_fetch_add(&s->waited, 1, __ATOMIC_RELAXED);
        spin_lock(&s->lock);
        v = READ_ONCE(s->count);
        asm volatile ( "pause; pause; pause; pause" ::: "memory" );
        WRITE_ONCE(s->count, v + 1);
        spin_unlock(&s->lock);
    }
}

TEST(spinlock, no_increment_is_lost_under_contention)
{
    shared.count = 0;
    shared.waited = 0;
    if ( !need_secondaries() )
        return;
    ASSERT_EQ(smp_start(1), 0);
    ASSERT_EQ(smp_post(1, add_rounds, &shared), 0);
    add_rounds(&shared);
    ASSERT_EQ(smp_wait(1, WORK_TIMEOUT_NS), 0);
    ASSERT_EQ(smp_stop(1), 0);
    ASSERT_EQ(shared.count, 2 * ROUNDS);
    ASSERT_EQ(spin_held_count(), 0);
    printk("         %lu of %u rounds found the lock taken\n",
           shared.waited, 2 * ROUNDS);
}

struct try_result {
    struct spinlock *lock;
    bool got;
};

static void try_and_release(void *arg)
{
    struct try_result *t = arg;

    t->got = spin_trylock(t->lock);
    if ( t->got )
        spin_unlock(t->lock);
}

TEST(spinlock, trylock_fails_while_another_vcpu_holds_it)
{
    static struct spinlock l = SPINLOCK_INIT("test.trylock", 10);
    struct try_result t = { .lock = &l };

    if ( !need_secondaries() )
        return;
    ASSERT_EQ(smp_start(1), 0);
    spin_lock(&l);
    ASSERT_EQ(smp_call(1, try_and_release, &t, WORK_TIMEOUT_NS), 0);
    ASSERT_TRUE(!t.got);
    spin_unlock(&l);
    ASSERT_EQ(smp_call(1, try_and_release, &t, WORK_TIMEOUT_NS), 0);
    ASSERT_TRUE(t.got);
    ASSERT_EQ(smp_stop(1), 0);
    ASSERT_EQ(l.taken, 0);
}

TEST(spinlock, locks_in_order_are_held_and_released_in_any_order)
{
    static struct spinlock a = SPINLOCK_INIT("test.a", 1);
    static struct spinlock b = SPINLOCK_INIT("test.b", 2);

    spin_lock(&a);
    spin_lock(&b);
    ASSERT_EQ(spin_held_count(), 2);
    ASSERT_EQ(b.holder, smp_vcpu_id() + 1);
    ASSERT_TRUE(!spin_trylock(&a));     /* taken: no wait, no panic */
    spin_unlock(&a);
    ASSERT_EQ(spin_held_count(), 1);
    ASSERT_EQ(a.taken, 0);
    spin_unlock(&b);
    ASSERT_EQ(spin_held_count(), 0);
    ASSERT_EQ(b.holder, 0);
}

TEST(spinlock, irqsave_masks_events_and_gives_the_mask_back)
{
    static struct spinlock l = SPINLOCK_INIT("test.irqsave", 10);
    struct vcpu_info *v = smp_vcpu_info(smp_vcpu_id());
    uint8_t before = v->evtchn_upcall_mask;
    unsigned long flags;

    /* Unmasked for a moment, so that the restore has something to do. */
    WRITE_ONCE(v->evtchn_upcall_mask, 0);
    flags = spin_lock_irqsave(&l);
    ASSERT_EQ(v->evtchn_upcall_mask, 1);
    spin_unlock_irqrestore(&l, flags);
    ASSERT_EQ(v->evtchn_upcall_mask, 0);
    WRITE_ONCE(v->evtchn_upcall_mask, before);
    ASSERT_EQ(flags, 0);
    ASSERT_EQ(l.taken, 0);
}
