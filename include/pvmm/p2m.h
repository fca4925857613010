/*
 * Looking up the p2m: pseudo-physical frame -> machine frame, and back
 * (mm/p2m_lookup.c).  Layer 1 of mm/ (docs/design.md, "Layers of mm/"):
 * read-only, below the allocator and the pagetables, so every layer may
 * translate.  docs/design.md, "The p2m", has the structure behind it.
 *
 * An entry is an mfn, INVALID_P2M_ENTRY for a missing pfn (no frame), or
 * IDENTITY_FRAME(pfn) for an identity pfn (dom0 non-RAM, MMIO: the "mfn"
 * is the pfn itself).  Until the revector the slow path answers from the
 * boot view (the builder's mfn_list through a three-level tree); after
 * it, everything below p2m_size is one load from the linear array at
 * P2M_BASE.
 */
#ifndef PVMM_P2M_H
#define PVMM_P2M_H

#include <pvmm/types.h>
#include <pvmm/layout.h>

/* Entries per page of the p2m: also the fan-out of each of its levels. */
#define P2M_PER_PAGE        (PAGE_SIZE / sizeof(unsigned long))
#define INVALID_P2M_ENTRY   (~0UL)
#define IDENTITY_FRAME_BIT  (1UL << 62)
#define IDENTITY_FRAME(pfn) ((pfn) | IDENTITY_FRAME_BIT)

/* The largest p2m: 2^36 pfns (256 TiB), one L4 slot of linear array. */
#define P2M_MAX_PFNS        (1UL << 36)

/* pfns the tools' three-level frame list can describe (512 GiB). */
#define P2M_FRAME_LIST_PFNS (1UL << 27)

/* Every entry of a p2m page (a leaf, a frame-list page) set to val. */
static inline void p2m_page_fill(unsigned long *page, unsigned long val)
{
    unsigned int i;

    for ( i = 0; i < P2M_PER_PAGE; i++ )
        page[i] = val;
}

/* A real frame: neither missing nor identity. */
static inline bool p2m_entry_is_populated(unsigned long e)
{
    return e != INVALID_P2M_ENTRY && !(e & IDENTITY_FRAME_BIT);
}

/* Entries below p2m_size are one load away; 0 until revectored. */
extern unsigned long p2m_size;

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
    return p2m_entry_is_populated(p2m_get_entry(pfn));
}

/*
 * Through the M2P (read safely: an mfn in a machine hole has no mapped
 * entry), checked to round-trip through the p2m.  An identity pfn's
 * "mfn" gives the pfn back; INVALID_PFN for any other foreign mfn.
 */
pfn_t mfn_to_pfn(mfn_t mfn);

/* What the M2P says of mfn; ~0 if the mfn is beyond it or not mapped. */
unsigned long p2m_m2p_raw(mfn_t mfn);

/* Reads the M2P's extent from Xen; before any lookup (mm/mm.c). */
void p2m_lookup_init(void);

/*
 * Who answers the slow path: the boot view until the linear p2m exists,
 * then the linear p2m's own (mm/p2m_revector.c installs it).
 */
typedef unsigned long (*p2m_resolver_t)(unsigned long pfn);
void p2m_lookup_set_resolver(p2m_resolver_t resolve);

#endif /* PVMM_P2M_H */
