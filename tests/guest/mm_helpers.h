/*
 * Small helpers the mm tests share.
 */
#ifndef TESTS_GUEST_MM_HELPERS_H
#define TESTS_GUEST_MM_HELPERS_H

#include <pvmm/frame.h>
#include <pvmm/p2m_boot.h>

/*
 * Free frames plus the frame list's pages.  Writing into a GiB whose
 * frame-list mid is shared gives it a private mid, which is kept for good
 * (mm/p2m_frames.c), so this sum, not the free count alone, is what an
 * operation and its undo must leave as it was.
 */
static inline unsigned long free_or_kept(void)
{
    struct p2m_stats s;

    p2m_get_stats(&s);
    return frame_free_count() + s.frame_list_pages;
}

#endif /* TESTS_GUEST_MM_HELPERS_H */
