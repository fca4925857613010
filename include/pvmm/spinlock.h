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

#define SPINLOCK_INIT(lock_name, lock_order) \
    { .taken = 0, .order = (lock_order), .name = (lock_name), .holder = 0 }

void spin_lock(struct spinlock *l);
bool spin_trylock(struct spinlock *l);
/* Panics if this vCPU does not hold l. */
void spin_unlock(struct spinlock *l);

unsigned long spin_lock_irqsave(struct spinlock *l);
void spin_unlock_irqrestore(struct spinlock *l, unsigned long flags);

/* How many locks this vCPU holds (tests). */
unsigned int spin_held_count(void);

#endif /* PVMM_SPINLOCK_H */
