/*
 * Batched hypercalls (xen/multicall.c).
 *
 * Operations are queued into a batch and issued together with one
 * HYPERVISOR_multicall (or directly, if only one is queued).  Consecutive
 * mmu_update requests ride in one mmu_update entry, and likewise
 * mmuext_ops (mc_extend), so a long run of PTE writes is one hypercall.
 *
 * After a flush every entry's result and every op's success count are
 * checked.  A failure is printed with the index of the failing operation
 * in queue order, the hypercall, and the error code; mc_flush() returns
 * the first error and mc_last_error() describes it.  Nothing continues
 * silently: callers check the return value.
 *
 * Each vCPU has its own batch, counts and last error: a vCPU issues only
 * what it queued itself, and needs no lock to queue.  mc_get_stats() and
 * mc_last_error() answer for the calling vCPU.
 */
#ifndef PVMM_MULTICALL_H
#define PVMM_MULTICALL_H

#include <pvmm/types.h>
#include <pvmm/xen.h>

#define MC_MAX_ENTRIES      64
#define MC_ARENA_BYTES      (32 * 1024)
#define MC_MAX_CALLBACKS    16

struct mc_stats {
    uint64_t hypercalls;        /* multicalls plus directly issued calls */
    uint64_t entries;           /* multicall entries (hypercall slots) */
    uint64_t mmu_ops;           /* mmu_update reqs + mmuext ops + uvm calls */
    uint64_t tlb_flushes;       /* full TLB flushes requested */
    uint64_t invlpgs;           /* single-address flushes requested */
};

struct mc_error {
    unsigned int op_index;      /* the failing op, counted in queue order */
    unsigned int entry;         /* its multicall entry */
    unsigned int hypercall;     /* __HYPERVISOR_* */
    long rc;                    /* -XEN_E* */
};

/*
 * The queue calls return 0 once the request is queued.  A full batch is
 * issued first to make room; if that fails, the request is NOT queued and
 * the call returns the earlier batch's error (mc_last_error() names its
 * failing op), so the caller knows exactly what happened to its own.
 */

/* Queue one PTE write (ptr = machine address | MMU_* command). */
int mc_mmu_update(uint64_t ptr, uint64_t val);
/* Queue one extended MMU operation. */
int mc_mmuext(const struct mmuext_op *op);
/* Queue an update_va_mapping (UVMF_* flags). */
int mc_update_va_mapping(unsigned long va, uint64_t pte, unsigned long flags);

/*
 * Issue one update_va_mapping at once, alone, leaving the batch (and its
 * callbacks and TLB flush) untouched: for a mapping the caller uses right
 * away while a lazy batch of its own may be open (PMAP).  Counted and
 * injectable like the queued kind; 0 or Xen's error, printed.
 */
int mc_update_va_mapping_now(unsigned long va, uint64_t pte,
                             unsigned long flags);

/*
 * Ask for one TLB flush when the batch is issued; any number of requests
 * in one batch give one flush, appended after everything else.  It is
 * MMUEXT_TLB_FLUSH_ALL: what is batched changes the kernel half, which
 * every vCPU's tree shares, and Xen flushes only the CPUs this domain
 * has run on since they last flushed.
 */
void mc_request_tlb_flush(void);

/*
 * Run fn(arg) after the batch has been issued (whatever its outcome).  If
 * MC_MAX_CALLBACKS are registered already the batch is issued first; an
 * error from that is returned and fn is not registered.
 */
int mc_callback(void (*fn)(void *arg), void *arg);

/* Issue everything queued; 0 or the first error. */
int mc_flush(void);

/*
 * Unbatched mode, for the benchmarks' comparison: every queued operation
 * is issued at once as its own hypercall.  Same code path, no batching.
 */
void mc_set_unbatched(bool on);

/* Number of operations queued and not yet issued. */
unsigned int mc_pending(void);

const struct mc_stats *mc_get_stats(void);
const struct mc_error *mc_last_error(void);

#endif /* PVMM_MULTICALL_H */
