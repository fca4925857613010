/*
 * Ballooning (mm/balloon.c): giving frames back to Xen and asking for
 * them again, at any pfn below the p2m's maximum.  Releases trim the
 * p2m's size back (p2m_trim) once nothing lives far up any more.
 */
#ifndef PVMM_BALLOON_H
#define PVMM_BALLOON_H

#include <pvmm/types.h>

/* Frames handed to Xen in one memory_op. */
#define BALLOON_BATCH   1024

/*
 * Takes n free frames from the allocator, unmaps them, marks their pfns
 * missing and gives them to Xen.  The pfns go to pfns[] (may be NULL).
 * *done says exactly how many were released; frames Xen did not take stay
 * mapped, populated and free.  0, or -XEN_E* with a message.
 */
int balloon_release(unsigned long n, pfn_t *pfns, unsigned long *done);

/*
 * The same for populated pfns the caller owns (not in the allocator), such
 * as frames populated beyond the direct map.
 */
int balloon_release_pfns(const pfn_t *pfns, unsigned long n,
                         unsigned long *done);

/*
 * Asks Xen for frames at pfns first..first+n-1 (or at pfns[]), records
 * them in the p2m, maps them in the direct map where it reaches, and frees
 * those within the allocator's range into it (others stay the caller's).
 * Each pfn must have no frame yet.  *done is exactly how many got one; a
 * shortfall (the reservation's limit, or Xen out of memory) is an error
 * that says so, and the p2m stays consistent.
 */
int balloon_populate(pfn_t first, unsigned long n, unsigned long *done);
int balloon_populate_list(const pfn_t *pfns, unsigned long n,
                          unsigned long *done);

struct balloon_stats {
    unsigned long released, populated;  /* frames, since boot */
    unsigned long hypercalls;           /* memory_ops issued */
    unsigned long short_calls;          /* Xen did fewer than asked */
};

const struct balloon_stats *balloon_get_stats(void);

#endif /* PVMM_BALLOON_H */
