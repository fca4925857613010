/*
 * Spinlocks with a lock-order check: see include/pvmm/spinlock.h.
 *
 * A lock is one word taken with xchg (a full barrier on x86, so what the
 * holder wrote before unlocking is seen by the next holder), and released
 * with a plain store after a compiler barrier (x86 keeps stores in order).
 * Waiters spin on a plain read with `pause` and only retry the xchg when
 * the word reads free, so they do not bounce the cache line.
 *
 * Each vCPU keeps the locks it holds in held[its id]; only that vCPU
 * touches its own entry, so the bookkeeping needs no lock of its own.
 */
#include <pvmm/spinlock.h>
#include <pvmm/smp.h>
#include <pvmm/shared_info.h>
#include <pvmm/panic.h>

struct held_locks {
    struct spinlock *lock[SPIN_MAX_HELD];
    unsigned int n;
};

static struct held_locks held[SMP_MAX_VCPUS];

static struct held_locks *mine(void)
{
    return &held[smp_vcpu_id()];
}

/* The held lock of the highest order, or NULL. */
static const struct spinlock *highest_held(const struct held_locks *h)
{
    const struct spinlock *top = NULL;
    unsigned int i;

    for ( i = 0; i < h->n; i++ )
        if ( !top || h->lock[i]->order > top->order )
            top = h->lock[i];
    return top;
}

static void check_order(const struct held_locks *h, const struct spinlock *l)
{
    const struct spinlock *top = highest_held(h);
    unsigned int i;

    for ( i = 0; i < h->n; i++ )
        if ( h->lock[i] == l )
            panic("spinlock: vCPU %u takes %s, which it holds already",
                  smp_vcpu_id(), l->name);
    if ( top && top->order >= l->order )
        panic("spinlock: vCPU %u takes %s (order %u) while holding %s "
              "(order %u)", smp_vcpu_id(), l->name, l->order, top->name,
              top->order);
    if ( h->n == SPIN_MAX_HELD )
        panic("spinlock: vCPU %u takes %s while holding %u locks already",
              smp_vcpu_id(), l->name, h->n);
}

static void note_taken(struct held_locks *h, struct spinlock *l)
{
    h->lock[h->n++] = l;
    l->holder = smp_vcpu_id() + 1;
}

static bool try_take(struct spinlock *l)
{
    return __atomic_exchange_n(&l->taken, 1, __ATOMIC_ACQUIRE) == 0;
}

void spin_lock(struct spinlock *l)
{
    struct held_locks *h = mine();

    check_order(h, l);
    while ( !try_take(l) )
        while ( READ_ONCE(l->taken) )
            asm volatile ( "pause" ::: "memory" );
    note_taken(h, l);
}

bool spin_trylock(struct spinlock *l)
{
    struct held_locks *h = mine();

    if ( h->n == SPIN_MAX_HELD || !try_take(l) )
        return false;
    note_taken(h, l);
    return true;
}

void spin_unlock(struct spinlock *l)
{
    struct held_locks *h = mine();
    unsigned int i;

    for ( i = 0; i < h->n && h->lock[i] != l; i++ )
        ;
    if ( i == h->n )
        panic("spinlock: vCPU %u releases %s, which it does not hold "
              "(holder %d)", smp_vcpu_id(), l->name, (int)l->holder - 1);
    h->lock[i] = h->lock[--h->n];
    l->holder = 0;
    __atomic_store_n(&l->taken, 0, __ATOMIC_RELEASE);
}

unsigned long spin_lock_irqsave(struct spinlock *l)
{
    struct vcpu_info *v = smp_vcpu_info(smp_vcpu_id());
    unsigned long flags = READ_ONCE(v->evtchn_upcall_mask);

    WRITE_ONCE(v->evtchn_upcall_mask, 1);
    barrier();
    spin_lock(l);
    return flags;
}

void spin_unlock_irqrestore(struct spinlock *l, unsigned long flags)
{
    struct vcpu_info *v = smp_vcpu_info(smp_vcpu_id());

    spin_unlock(l);
    barrier();
    /*
     * pvmm's vCPUs keep events masked, so flags is 1 today; a kernel that
     * unmasks here must also make Xen deliver what became pending.
     */
    WRITE_ONCE(v->evtchn_upcall_mask, (uint8_t)flags);
}

bool spin_is_mine(const struct spinlock *l)
{
    return READ_ONCE(l->holder) == smp_vcpu_id() + 1;
}

unsigned int spin_held_count(void)
{
    return mine()->n;
}
