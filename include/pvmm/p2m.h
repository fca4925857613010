/*
 * The p2m: pseudo-physical frame -> machine frame (mm/p2m*.c, DESIGN
 * section 2, docs/p2m.md).
 *
 * An entry is an mfn, INVALID_P2M_ENTRY for a missing pfn (no frame), or
 * IDENTITY_FRAME(pfn) for an identity pfn (dom0 non-RAM, MMIO: the "mfn"
 * is the pfn itself).  Until p2m_revector() the entries come from the
 * builder's mfn_list through a three-level tree; after it, from the
 * linear array at P2M_BASE.
 */
#ifndef PVMM_P2M_H
#define PVMM_P2M_H

#include <pvmm/types.h>
#include <pvmm/xen.h>
#include <pvmm/layout.h>
#include <pvmm/p2m_tree.h>

#define P2M_PER_PAGE        512
#define INVALID_P2M_ENTRY   (~0UL)
#define IDENTITY_FRAME_BIT  (1UL << 62)
#define IDENTITY_FRAME(pfn) ((pfn) | IDENTITY_FRAME_BIT)

/* The largest p2m: 2^36 pfns (256 TiB), one L4 slot of linear array. */
#define P2M_MAX_PFNS        (1UL << 36)

/* pfns the tools' three-level frame list can describe (512 GiB). */
#define P2M_FRAME_LIST_PFNS (1UL << 27)

/* Entries below p2m_size are one load away; 0 until revectored. */
extern unsigned long p2m_size;

/* pfns with a real frame (kept by p2m_set). */
extern unsigned long p2m_nr_populated;

unsigned long p2m_lookup_slow(pfn_t pfn);

/* The raw entry: an mfn, INVALID_P2M_ENTRY or IDENTITY_FRAME(pfn). */
static inline unsigned long p2m_get_entry(pfn_t pfn)
{
    if ( pfn_x(pfn) < p2m_size )
    {
        unsigned long e = READ_ONCE(((unsigned long *)P2M_BASE)[pfn_x(pfn)]);

        if ( e != INVALID_P2M_ENTRY )
            return e;
    }
    return p2m_lookup_slow(pfn);
}

/* INVALID_MFN for a missing pfn; the pfn itself for an identity pfn. */
static inline mfn_t pfn_to_mfn(pfn_t pfn)
{
    unsigned long e = p2m_get_entry(pfn);

    return e == INVALID_P2M_ENTRY ? INVALID_MFN
                                  : _mfn(e & ~IDENTITY_FRAME_BIT);
}

static inline bool p2m_entry_is_identity(unsigned long e)
{
    return e != INVALID_P2M_ENTRY && (e & IDENTITY_FRAME_BIT);
}

/* A real frame: neither missing nor identity. */
static inline bool p2m_is_populated(pfn_t pfn)
{
    unsigned long e = p2m_get_entry(pfn);

    return e != INVALID_P2M_ENTRY && !(e & IDENTITY_FRAME_BIT);
}

/*
 * Through the M2P (read safely: an mfn in a machine hole has no mapped
 * entry), checked to round-trip through the p2m.  An identity pfn's
 * "mfn" gives the pfn back; INVALID_PFN for any other foreign mfn.
 */
pfn_t mfn_to_pfn(mfn_t mfn);

/*
 * Sets pfn's entry.  Never writes into a shared page: the first real entry
 * in a shared chunk gets the chunk a private leaf (and a private L1 or L2
 * if those were shared).  A pfn at or beyond p2m_size grows the p2m.
 * Returns 0, or -XEN_EINVAL / -XEN_ENOMEM with a message.
 */
int p2m_set(pfn_t pfn, unsigned long entry);

/* Shrinks p2m_size after releases (never below its boot size). */
void p2m_trim(void);

/*
 * Pages for a p2m tree built after boot (a test's or a benchmark's own),
 * from the frame allocator through the direct map.
 */
extern const struct p2m_tree_pages p2m_tree_runtime_pages;

/* Boot, in order (mm/mm.c). */
void p2m_init(const start_info_t *si);
void p2m_tree_init(void);
int p2m_e820_init(const start_info_t *si, unsigned long remap_max);
/* Gives back the hole frames that found no RAM pfn (mm/p2m_e820.c). */
int p2m_e820_release(void);
/* How many frames p2m_e820_release() gave back. */
unsigned long p2m_e820_released(void);
void p2m_e820_print(void);
int p2m_revector(void);
/*
 * Publishes the frame list, and the linear list (p2m_cr3) if `linear`
 * says so: 1 always, 0 never, -1 if the tools set SIF_VIRT_P2M_4TOOLS.
 */
int p2m_frames_init(int linear);

/*
 * A digest of every populated (pfn, mfn) pair in pfn order: the count and
 * a 64-bit FNV-1a hash over the pairs as little-endian 64-bit words.  The
 * dump-core checker (tests/xl/p2m-digest.c) computes the same from a core.
 */
void p2m_digest(unsigned long *count, uint64_t *hash);

/* Before revector: one past the highest populated pfn. */
pfn_t p2m_populated_end(void);

/* Checks every invariant of DESIGN section 2; 0 or -1 (and prints why). */
int p2m_audit(void);

/* The first violation the last failed p2m_audit() found. */
struct p2m_audit_report {
    const char *what;
    unsigned long where;            /* pfn or chunk, as `what` says */
    unsigned long found, expected;
};
const struct p2m_audit_report *p2m_audit_last(void);

/* Tree and linear p2m against the builder's list, before it was freed. */
struct p2m_crosscheck {
    unsigned long checked, mismatches;
    unsigned long first_pfn, list, tree, linear;    /* first mismatch */
    /* Where the builder's list was: its pages go back to the allocator. */
    unsigned long list_first_pfn, list_pages;
};
extern struct p2m_crosscheck p2m_crosscheck;

/* Is the whole page of pfn in a RAM range of the memory map? */
bool p2m_e820_is_ram(pfn_t pfn);

/*
 * The entry of pfn once its frame is gone: identity where the memory map
 * says hole or MMIO (dom0: also everything past the host's RAM), else
 * INVALID_P2M_ENTRY.  The balloon gives a released pfn this.
 */
unsigned long p2m_unpopulated_entry(pfn_t pfn);

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
 * Prints the p2m's layout as "P2M-MAP" lines under label (mm/p2m_map.c;
 * tools/p2m-map draws it).  Only reads.
 */
void p2m_map_dump(const char *label);

#endif /* PVMM_P2M_H */
