/*
 * Spinlocks with a lock-order check (arch/x86/spinlock.c).
 *
 * Every lock has an order.  A vCPU may take a lock only while every lock
 * it holds has a lower order; then no two vCPUs can ever wait on each
 * other's locks.  Taking a lock out of order, or one the vCPU already
 * holds, is a deadlock waiting to happen even if it did not happen this
 * time: spin_lock() names both locks and panics.  spin_trylock() never
 * waits, so it skips the order check (it still records the lock as held).
 *
 * The irqsave variants also mask event upcalls on this vCPU, for data an
 * event handler shares; they give back the mask as it was.
 */
#ifndef PVMM_SPINLOCK_H
#define PVMM_SPINLOCK_H

#include <pvmm/types.h>

/* How many locks one vCPU may hold at once. */
#define SPIN_MAX_HELD   8

struct spinlock {
    uint32_t taken;                 /* 0 free, 1 taken: xchg'd */
    unsigned int order;
    const char *name;
    unsigned int holder;            /* vCPU id + 1; 0: free (messages) */
};

/*
 * The kernel's locks, in the one order a vCPU may take them
 * (docs/concurrency.md): a p2m change allocates, which may map a frame
 * through PMAP, and everything may print.
 */
enum spin_order {
    LOCK_ORDER_PT_TREE = 30,        /* mm/pt_pin.c: pin and unpin, per tree */
    LOCK_ORDER_P2M = 40,            /* the p2m's writers (mm/p2m_pv.c) */
    LOCK_ORDER_FRAME = 50,          /* the frame allocator */
    LOCK_ORDER_PMAP = 60,           /* PMAP's slots */
    LOCK_ORDER_CONSOLE = 90,        /* a write to the console */
};

#define SPINLOCK_INIT(lock_name, lock_order) \
    { .taken = 0, .order = (lock_order), .name = (lock_name), .holder = 0 }

void spin_lock(struct spinlock *l);
bool spin_trylock(struct spinlock *l);
/* Panics if this vCPU does not hold l. */
void spin_unlock(struct spinlock *l);

unsigned long spin_lock_irqsave(struct spinlock *l);
void spin_unlock_irqrestore(struct spinlock *l, unsigned long flags);

/* Does this vCPU hold l? */
bool spin_is_mine(const struct spinlock *l);

/* How many locks this vCPU holds (tests). */
unsigned int spin_held_count(void);

#endif /* PVMM_SPINLOCK_H */
