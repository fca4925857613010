/*
 * PMAP (mm/pmap.c): a few fixed slots to map a machine frame before the
 * direct map covers it.
 *
 * Contract: any vCPU (the slot table has a lock; a slot is used only by
 * the vCPU that mapped it), at most PMAP_SLOTS mappings at once.  pmap_map() writes the slot's PTE;
 * pmap_unmap() clears it and flushes that one address.  Running out of
 * slots is a bug in the caller: it panics with a message naming who holds
 * each slot.
 */
#ifndef PVMM_PMAP_H
#define PVMM_PMAP_H

#include <pvmm/types.h>

#define PMAP_SLOTS  8

struct pmap_slot {
    mfn_t mfn;              /* INVALID_MFN when free */
    const char *holder;     /* the function that mapped it */
    bool writable;
};

/* Call once the fixmap L1 is linked into the kernel's tree. */
void pmap_init(void);

#define pmap_map(mfn, writable) pmap_map_for(mfn, writable, __func__)
void *pmap_map_for(mfn_t mfn, bool writable, const char *holder);
void pmap_unmap(const void *va);
bool pmap_owns(const void *va);

/*
 * Across a suspend (docs/suspend.md): a slot in use keeps its page by pfn
 * (pmap_suspend: -XEN_EBUSY if it maps a frame the domain does not own,
 * which the tools could not save), and pmap_resume() maps each such slot
 * again on the page's new frame; it returns how many it re-derived.
 */
int pmap_suspend(void);
unsigned int pmap_resume(void);

/*
 * The exhaustion message, as text: "PMAP: all N slots in use: slot 0 mfn
 * 0x.. (holder), ...".  Pure, so the host tests check it.
 */
size_t pmap_describe_full(char *buf, size_t size,
                          const struct pmap_slot *slots, unsigned int nr);

#endif /* PVMM_PMAP_H */
