/*
 * Memory content across a save and restore (mm/frame_tags.c): a tag
 * derived from each free frame's pfn and a salt, written into the frame
 * before the suspend and checked after the resume.  The tools copy every
 * page's content to whatever new frame backs its pfn, so each free frame
 * must still hold its own pfn's tag: a mismatch means a page came back at
 * the wrong pfn, or not at all.
 */
#ifndef PVMM_FRAME_TAGS_H
#define PVMM_FRAME_TAGS_H

#include <pvmm/types.h>

struct frame_tags {
    uint64_t salt;
    unsigned long tagged;           /* frames tagged by frame_tags_write */
};

/* Tags every free frame; a new salt each time, so old tags never pass. */
void frame_tags_write(struct frame_tags *t);

/*
 * Checks every free frame's tag; how many do not match.  *checked says
 * how many were checked: it must equal t->tagged, or the free set changed
 * in between (counted as bad frames too).
 */
unsigned long frame_tags_check(const struct frame_tags *t,
                               unsigned long *checked);

#endif /* PVMM_FRAME_TAGS_H */
