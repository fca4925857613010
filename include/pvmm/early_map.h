/*
 * Mapping a machine frame at a page the kernel image reserves, before any
 * memory management exists (shared_info, the console ring).
 */
#ifndef PVMM_EARLY_MAP_H
#define PVMM_EARLY_MAP_H

#include <pvmm/types.h>
#include <pvmm/pte.h>

/* Points the page at va (inside the image) at mfn; 0 or -XEN_E*. */
int early_map_mfn(void *va, mfn_t mfn, uint64_t flags);

#endif /* PVMM_EARLY_MAP_H */
