/*
 * The seam between the portable p2m core (the `core` files of mm/LAYERS:
 * mm/p2m_lookup.c, mm/p2m_shape.c, mm/p2m_revector.c, mm/p2m_set.c,
 * mm/p2m_frames.c, mm/p2m_audit.c, mm/p2m_map.c, mm/p2m_suspend.c) and
 * the kernel it runs in.  pvmm implements it in
 * mm/p2m_pv.c with its pagetable library and multicalls, the host
 * fuzzer in tests/host/p2m_host.c over a memfd; a port implements these
 * calls and nothing else (docs/p2m.md, "Porting the core").
 *
 * Vocabulary.  A "page" is named by its machine frame (mfn_t): the frame
 * number a pagetable entry holds, the number the tools read in the frame
 * list.  The p2m is a three-level radix tree of pages under one L3:
 *   level 3: the L3, 512 entries, each 2^27 pfns (512 GiB);
 *   level 2: an L2, 512 entries, each 2^18 pfns (1 GiB);
 *   level 1: an L1, 512 entries, each one chunk: a leaf of 512 p2m
 *            entries, mapped at P2M_BASE + chunk * PAGE_SIZE.
 * A "table" (level 1-3) is a page the MMU walks; a "data page" (a leaf,
 * a frame-list page) is one the core writes and reads.
 *
 * Contract for every call:
 *  - allocations return INVALID_MFN when there is no memory and change
 *    nothing; the core never treats that as fatal;
 *  - calls that return int give 0 or a negative -XEN_E* code;
 *  - set/seal/flush calls may be queued: between p2m_be_batch_begin() and
 *    p2m_be_batch_end() they take effect, in order, at the latest when
 *    the batch ends, and p2m_be_batch_end() returns the first error;
 *    outside a batch they take effect before the call returns;
 *  - reads (p2m_be_entry) say what the hardware walks now, not what a
 *    batch still holds.
 * Concurrency (docs/concurrency.md): the core takes p2m_be_lock() around
 * every change but a store into a private leaf, and calls the others
 * with it held, or at boot and suspend with no other CPU running.
 */
#ifndef PVMM_P2M_BACKEND_H
#define PVMM_P2M_BACKEND_H

#include <pvmm/types.h>
#include <xen/errno.h>      /* the -XEN_E* codes every call returns */

/* A line of diagnostics, printf-style, ending in '\n'. */
void p2m_be_log(const char *fmt, ...) __printf(1, 2);

/*
 * A new data page, contents undefined: its frame, and in *va an address
 * through which the core fills it.  Linux: alloc_page + page_address;
 * a BSD: vm_page_alloc + PHYS_TO_DMAP.
 */
mfn_t p2m_be_page_alloc(unsigned long **va);

/* The writable address of a data page p2m_be_page_alloc() gave. */
unsigned long *p2m_be_page_va(mfn_t page);

/* Gives a data page back.  Nothing maps it any more. */
void p2m_be_page_free(mfn_t page);

/*
 * Makes a data page read-only through every mapping the kernel has of
 * it, for good: the shared missing and identity leaves.  May be queued.
 */
int p2m_be_page_share(mfn_t page);

/* Has page gone back to the allocator?  (The auditor asks.) */
bool p2m_be_page_is_free(mfn_t page);

/*
 * A new table of `level` whose every entry names fill (a leaf for level
 * 1, a table of level - 1 otherwise), read-only for a leaf unless
 * fill_writable; INVALID_MFN as fill leaves the entries not present.
 * Not yet part of the tree: p2m_be_set_entry() on it is a plain store.
 */
mfn_t p2m_be_table_alloc(unsigned int level, mfn_t fill, bool fill_writable);

/*
 * The table is finished: from now on it is part of the live tree
 * (read-only, validated by the hypervisor on a PV guest).  Must come
 * before the table is linked.  May be queued.
 */
int p2m_be_table_seal(mfn_t table, unsigned int level);

/* Gives a table back; it must be unlinked (and the unlink issued). */
void p2m_be_table_free(mfn_t table);

/*
 * What entry index of table names, INVALID_MFN if not present; *writable
 * (if not NULL) says whether a leaf is mapped writable there.
 */
mfn_t p2m_be_entry(mfn_t table, unsigned int index, bool *writable);

/*
 * Points the entry of a level-`level` table that covers pos at child.
 * pos is the entry's number across the whole level: the chunk for
 * level 1, the GiB for level 2, the 512 GiB for level 3; the table's own
 * index is pos % 512.  A leaf is mapped writable only if `writable`.
 * May be queued.
 */
int p2m_be_set_entry(mfn_t table, unsigned int level, unsigned long pos,
                     mfn_t child, bool writable);

/*
 * The writers' lock: a sleeping or spinning mutex; the core never takes it
 * twice.  Linux: a spinlock (p2m_update_lock); a BSD: a mutex.
 */
void p2m_be_lock(void);
void p2m_be_unlock(void);
/* Does this CPU hold it?  (A lookup by the writer does not wait.) */
bool p2m_be_writing(void);
/* A pause while waiting for another CPU (cpu_relax). */
void p2m_be_relax(void);

/* Makes l3 the p2m's top: maps the whole array at P2M_BASE. */
int p2m_be_install(mfn_t l3);

/* Groups the calls up to the matching end; nests. */
void p2m_be_batch_begin(void);
/* Issues what the batch holds (even when nested); 0 or the first error. */
int p2m_be_batch_end(void);

/*
 * Drops chunk's translation from the TLB of every CPU that may hold it
 * (every CPU: the array is mapped in the kernel half).  May be queued.
 */
int p2m_be_flush_chunk(unsigned long chunk);
/* The same for every translation (a whole range changed). */
int p2m_be_flush_all(void);

/* The p2m_generation word the tools watch (shared_info on Xen). */
unsigned long *p2m_be_generation(void);

/*
 * Tells the tools the p2m's size and the frame list's top page (INVALID_MFN:
 * the list cannot describe a p2m that large, ~0 is published).
 */
void p2m_be_publish_size(unsigned long max_pfn, mfn_t frame_list_top);

/*
 * Tells the tools where the linear array is, and how to walk it (linear),
 * or that they must not (!linear: p2m_cr3 = 0).
 */
void p2m_be_publish_linear(bool linear);

/* What the tools read now, and what the backend meant to publish. */
struct p2m_be_published {
    unsigned long generation, max_pfn, frame_list;
    unsigned long vaddr, cr3, cr3_expected;
};
void p2m_be_published(struct p2m_be_published *p);

/* The hypervisor's count of the domain's pages; negative if unknown. */
long p2m_be_reservation(void);

/*
 * Suspend and resume (docs/suspend.md).  When the tools restore a domain
 * every page gets a new machine frame; what a page keeps is its place in
 * the domain (on Xen, its pfn).  p2m_be_page_key() names a page by that
 * place before the suspend (~0UL if it has none); p2m_be_key_page() gives
 * its machine frame afterwards, from the p2m the tools rewrote
 * (INVALID_MFN if nothing backs the key).
 */
unsigned long p2m_be_page_key(mfn_t page);
mfn_t p2m_be_key_page(unsigned long key);

#endif /* PVMM_P2M_BACKEND_H */
