/*
 * The portable p2m core's interface (mm/p2m_shape.c, mm/p2m_revector.c,
 * mm/p2m_set.c, mm/p2m_frames.c, mm/p2m_audit.c, mm/p2m_map.c): the
 * linear, virtually mapped, sparse p2m, its frame list and its auditor.
 * docs/p2m.md describes the structure; docs/design.md, "Invariants",
 * what the auditor checks.  The core reaches the machine only through
 * mm/p2m_backend.h; lookups are <pvmm/p2m.h>.
 */
#ifndef PVMM_P2M_CORE_H
#define PVMM_P2M_CORE_H

#include <pvmm/p2m.h>

/* pfns with a real frame (kept by p2m_set). */
extern unsigned long p2m_nr_populated;

/* What p2m_build() needs to know of the kernel's boot view. */
struct p2m_build {
    unsigned long size;         /* pfns; rounded up to whole chunks */
    unsigned long populated;    /* of them, pfns with a real frame */
    /* The entry of any pfn < size as booted (mfn, INVALID, IDENTITY). */
    unsigned long (*boot_entry)(unsigned long pfn);
    /*
     * What the structure holds where nothing was written: past the size,
     * and where p2m_set() never wrote.  true for a dom0 (its memory map
     * calls everything past the host's RAM MMIO), false for a domU
     * (missing: room to balloon).
     */
    bool unwritten_identity;
    unsigned long nr_pages;     /* the domain's pages at start (the map) */
};

/*
 * Builds the linear p2m from the boot view in one batch, installs it at
 * P2M_BASE and makes lookups use it.  0 or -XEN_E*; on failure nothing
 * reads the new structure (the caller cannot go on: boot panics).
 */
int p2m_build(const struct p2m_build *b);

/*
 * Sets pfn's entry.  Never writes into a shared page: the first real entry
 * in a shared chunk gets the chunk a private leaf (and a private L1 or L2
 * if those were shared).  A pfn at or beyond p2m_size grows the p2m.
 * Returns 0, or -XEN_EINVAL / -XEN_ENOMEM (or the backend's error) with a
 * message; on an error the entry and the structure read as before.
 */
int p2m_set(pfn_t pfn, unsigned long entry);

/* Shrinks p2m_size after releases (never below its built size). */
void p2m_trim(void);

/* The shared pages every sparse piece maps (docs/p2m.md). */
struct p2m_shared_pages {
    mfn_t missing, identity;            /* leaves: 512 x INVALID each */
    mfn_t missing_pte, identity_pte;    /* L1s: 512 x the leaf, read-only */
    mfn_t missing_pmd, identity_pmd;    /* L2s: 512 x the L1 */
    mfn_t l3;                           /* the p2m's own L3 */
};
const struct p2m_shared_pages *p2m_shared_pages(void);

/* The leaf mapped behind chunk (512 pfns), as the hardware walks it. */
mfn_t p2m_chunk_leaf(unsigned long chunk);

/*
 * Publishes the frame list (top, mids) that the tools read, and the
 * linear list (p2m_cr3) if `linear`.  0 or -XEN_ENOMEM.
 */
int p2m_frames_init(bool linear);
/* The leaf the frame list names for chunk; INVALID_MFN past its reach. */
mfn_t p2m_frames_leaf(unsigned long chunk);

/*
 * Checks every invariant of the structure, its frame list and what the
 * tools read (docs/design.md, "Invariants", 1-6 and 8); 0 or -1, and
 * prints why.
 */
int p2m_core_audit(void);

/* The first violation the last failed audit found. */
struct p2m_audit_report {
    const char *what;
    unsigned long where;            /* pfn or chunk, as `what` says */
    unsigned long found, expected;
};
const struct p2m_audit_report *p2m_audit_last(void);

/* Records and prints a violation (for a kernel's own extra checks). */
void p2m_audit_fail(const char *what, unsigned long where,
                    unsigned long found, unsigned long expected);

struct p2m_stats {
    unsigned long size;             /* p2m_size */
    unsigned long populated;        /* pfns with a real frame */
    unsigned long private_leaves;
    unsigned long missing_leaf_maps;    /* chunks backed by p2m_missing */
    unsigned long identity_leaf_maps;   /* chunks backed by p2m_identity */
    unsigned long private_l1, shared_l1_maps;
    unsigned long private_l2, shared_l2_maps;
    unsigned long frame_list_pages;     /* top + private mid pages */
};
void p2m_get_stats(struct p2m_stats *st);

/*
 * A digest of every populated (pfn, mfn) pair in pfn order: the count and
 * a 64-bit FNV-1a hash over the pairs as little-endian 64-bit words.  The
 * dump-core checker (tests/xl/p2m-digest.c) computes the same from a core.
 */
void p2m_digest(unsigned long *count, uint64_t *hash);

/*
 * Prints the p2m's layout as "P2M-MAP" lines under label (mm/p2m_map.c;
 * tools/p2m-map draws it).  Only reads.
 */
void p2m_map_dump(const char *label);

/*
 * Across a suspend (mm/p2m_suspend.c, docs/suspend.md).  Before: every
 * machine frame the core caches becomes the backend's key for its page;
 * nothing may use the p2m's slow path or change it until the resume.
 * After (a restore on new frames, or a cancelled suspend on the same
 * ones): keys back to frames from the p2m the tools rewrote, the frame
 * list's entries rebuilt, and max_pfn, the frame list, p2m_vaddr,
 * p2m_cr3 and p2m_generation published again.  *rederived counts the
 * cached frames re-derived.  0, or -XEN_ENOENT if a page has no frame.
 */
void p2m_core_suspend(void);
int p2m_core_resume(unsigned long *rederived);

#endif /* PVMM_P2M_CORE_H */
