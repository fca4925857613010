/*
 * Per-pfn tags in free frames (pvmm/frame_tags.h).
 *
 * Three words per frame (first, middle, last) are enough to tell which
 * pfn's content a frame holds without the cost of filling 4 KiB: under
 * TCG a full fill of a 1 GiB guest would take seconds per round.  Tags
 * go through the direct map, the one mapping every free frame has.
 */
#include <pvmm/frame_tags.h>
#include <pvmm/frame.h>
#include <pvmm/layout.h>
#include <pvmm/time.h>

static const unsigned int tag_words[] = { 0, 255, 511 };

static uint64_t tag_of(unsigned long pfn, uint64_t salt, unsigned int i)
{
    return (pfn * 0x9e3779b97f4a7c15UL) ^ salt ^ ((uint64_t)i << 56);
}

void frame_tags_write(struct frame_tags *t)
{
    unsigned long pfn;
    unsigned int i;
    uint64_t *p;

    t->salt = rdtsc() | 1;          /* never the zeros of a fresh page */
    t->tagged = 0;
    for ( pfn = 0; pfn < frame_total(); pfn++ )
    {
        if ( !frame_is_free(_pfn(pfn)) )
            continue;
        p = directmap_va(_pfn(pfn));
        for ( i = 0; i < ARRAY_SIZE(tag_words); i++ )
            p[tag_words[i]] = tag_of(pfn, t->salt, i);
        t->tagged++;
    }
}

unsigned long frame_tags_check(const struct frame_tags *t,
                               unsigned long *checked)
{
    unsigned long pfn, bad = 0;
    unsigned int i;
    const uint64_t *p;

    *checked = 0;
    for ( pfn = 0; pfn < frame_total(); pfn++ )
    {
        if ( !frame_is_free(_pfn(pfn)) )
            continue;
        p = directmap_va(_pfn(pfn));
        for ( i = 0; i < ARRAY_SIZE(tag_words); i++ )
            if ( p[tag_words[i]] != tag_of(pfn, t->salt, i) )
                break;
        bad += i < ARRAY_SIZE(tag_words);
        (*checked)++;
    }
    /* Frames freed or taken in between cannot be told apart: all bad. */
    if ( *checked != t->tagged )
        bad += *checked > t->tagged ? *checked - t->tagged
                                    : t->tagged - *checked;
    return bad;
}
