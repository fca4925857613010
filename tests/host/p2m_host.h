/*
 * A host backend for the portable p2m core (mm/p2m_backend.h), for the
 * fuzzer (tests/host/fuzz_check.c) and the native benchmarks
 * (tests/host/bench_p2m.c).  It builds the same layout as pvmm does
 * under Xen, in a Linux process, out of real pages:
 *
 *   frames      pages of one memfd; a frame's mfn is its page offset;
 *   direct map  the whole memfd mapped once: p2m_be_page_va(); a shared
 *               or sealed page is read-only there, as in pvmm;
 *   tables      frames holding 512 entries (mfn, writable bit), changed
 *               only through p2m_be_set_entry() once sealed; the backend
 *               keeps a private writable view of them, as Xen does;
 *   the array   512 GiB of address space at P2M_BASE (moved for the host
 *               by -DP2M_BASE), PROT_NONE until touched: a touch of
 *               chunk c walks the installed tables and maps c's leaf
 *               there, MAP_SHARED from the memfd, read-only unless the
 *               L1 entry says writable.  That mapping is the TLB: it
 *               stays until p2m_be_flush_chunk()/_all() drops it, so a
 *               missing flush shows as a stale read, and a store into a
 *               shared leaf faults, as under Xen;
 *   the M2P     an array the fuzzer writes (host_m2p_set).
 *
 * It is a test double for the backend interface, not a Xen simulator: no
 * hypercalls.  What Xen would refuse (a table linked before it is sealed,
 * a shared page linked writable, a table naming what is not a table of
 * the level below) gets -XEN_EINVAL and is counted (counts.invalid); what
 * Xen cannot see but would corrupt the guest (a page freed while a table
 * or a mapping still names it) aborts.
 */
#ifndef PVMM_P2M_HOST_H
#define PVMM_P2M_HOST_H

#include <pvmm/types.h>
#include <setjmp.h>

/* Machine frames the fuzzer hands out as "real" entries: above ours. */
#define HOST_GUEST_MFN_BASE (1UL << 22)
#define HOST_M2P_ENTRIES    (1UL << 24)

/*
 * Sets up the views; max_frames bounds the p2m's own pages, max_mapped
 * the chunks mapped at once (beyond it all are unmapped, as a full TLB
 * would be flushed; each is a map, so well below vm.max_map_count).
 * 0 or -1.
 */
int host_init(unsigned long max_frames, unsigned long max_mapped);

/* The M2P: what the hypervisor says of mfn (~0UL: nothing). */
void host_m2p_set(unsigned long mfn, unsigned long pfn);

/* What p2m_be_reservation() answers; negative: unknown. */
void host_set_reservation(long pages);

/*
 * Fault injection: the n-th page or table allocation from now (0: the
 * next) returns INVALID_MFN; the n-th set or seal from now is refused
 * with -XEN_EPERM.  Negative: none.
 */
void host_fail_alloc(long n);
void host_refuse_update(long n);
/*
 * For the fuzzer's self-test: flushes are accepted and do nothing, as on
 * a CPU that kept stale translations.  The fuzzer must notice.
 */
void host_sabotage_flushes(void);

/* Did an injected failure fire since the last call?  Clears it. */
bool host_injection_fired(void);

/* A frame's contents, read through the backend's own view. */
const unsigned long *host_frame(mfn_t mfn);
/* Is mfn a page the backend gave out and has not had back? */
bool host_frame_in_use(mfn_t mfn);

struct host_counts {
    unsigned long pages_in_use;     /* data pages + tables given out */
    unsigned long allocs, frees;
    unsigned long updates;          /* sets and seals applied */
    unsigned long batches;          /* batch_end calls that issued */
    unsigned long fills;            /* chunks mapped on a touch */
    unsigned long flush_chunk, flush_all;
    unsigned long invalid;          /* updates Xen would refuse */
    unsigned long injected;         /* injected failures that fired */
};
void host_counts(struct host_counts *c);

/*
 * A genuine fault (a store into a read-only chunk, a touch of a chunk
 * the tables do not map): if a caller armed `fault_jmp`
 * it gets there with the faulting address in host_fault_addr; otherwise
 * the message goes to stderr and the process aborts.
 */
extern sigjmp_buf *host_fault_jmp;
extern unsigned long host_fault_addr;

/* Does a store of val at va fault?  (The store happens if it does not.) */
bool host_store_faults(unsigned long *va, unsigned long val);

/* Core diagnostics: to stderr if verbose, else kept (the last line). */
void host_set_verbose(bool verbose);
const char *host_last_log(void);
/* Why the last update was refused as invalid (counts.invalid). */
const char *host_last_invalid(void);

#endif /* PVMM_P2M_HOST_H */
