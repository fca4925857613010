/*
 * pfn <-> mfn translation (mm/p2m.c).
 *
 * For now the p2m is the domain builder's flat mfn_list; the linear,
 * sparse p2m of DESIGN section 2 replaces it behind the same functions.
 */
#ifndef PVMM_P2M_H
#define PVMM_P2M_H

#include <pvmm/types.h>
#include <pvmm/xen.h>

void p2m_init(const start_info_t *si);

/* INVALID_MFN for a pfn with no frame. */
mfn_t pfn_to_mfn(pfn_t pfn);

/* Through the M2P, checked to round-trip; INVALID_PFN for a foreign mfn. */
pfn_t mfn_to_pfn(mfn_t mfn);

#endif /* PVMM_P2M_H */
