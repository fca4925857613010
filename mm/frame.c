/*
 * Frame allocator.
 *
 * Structure.  Early phase: bump_next is the next pfn to hand out, up to
 * bump_end; pfns below it are in use for good (image, builder structures,
 * early mm allocations: the direct map's pagetables, the bitmap itself).
 * Full phase: one bit per pfn < nr_frames in free_map, set = free,
 * searched from a rotating hint so consecutive allocations are cheap.
 *
 * It is told which frames exist, never asks (xv6's kinit/freerange):
 * frame_early_init() gives the bump phase its run, frame_early_limit()
 * ends it before the first pfn without a frame, and in the full phase
 * the bitmap starts empty and mm_init frees every populated run into it
 * with frame_free_range().  So the allocator sits below the p2m and the
 * direct map (layer 2, mm/LAYERS), which both allocate from it.
 *
 * Invariants: nr_free equals the number of set bits (full phase), or
 * bounds the unreserved pfns in [bump_next, bump_end) (early phase).
 * nr_frames is one past the highest populated pfn, not nr_pages: as dom0
 * frames are moved out of E820 holes to pfns above nr_pages.  A bitmap
 * over nr_pages bits is small (32 KiB per 1 GiB of guest), which is why
 * it was chosen over a buddy allocator: the kernel only ever asks for
 * single pages, and the p2m tests want to free arbitrary pfns cheaply.
 *
 * Who calls it: mm/ only, on any vCPU once the full phase runs: the
 * frame lock covers the bitmap, the hint and nr_free (an allocation is a
 * read-modify-write of one bitmap word and the count, which two vCPUs
 * must not interleave).  The early phase is boot, on vCPU 0 alone.
 */
#include <pvmm/frame.h>
#include <pvmm/inject.h>
#include <pvmm/panic.h>
#include <pvmm/lib.h>
#include <pvmm/spinlock.h>

#define BITS_PER_WORD   64
#define MAX_RESERVED    4

static unsigned long nr_frames;
static unsigned long nr_free;
static unsigned long bump_next, bump_end;
static unsigned long reserved[MAX_RESERVED];
static unsigned int nr_reserved;
static uint64_t *free_map;          /* NULL during the early phase */
static struct spinlock frame_lock = SPINLOCK_INIT("frame", LOCK_ORDER_FRAME);
static unsigned long hint_word;

/* Reserved by the builder (frame_reserve): never handed out. */
static bool is_reserved(unsigned long pfn)
{
    unsigned int i;

    for ( i = 0; i < nr_reserved; i++ )
        if ( reserved[i] == pfn )
            return true;
    return false;
}

void frame_early_init(pfn_t first_free, unsigned long nr_pages)
{
    nr_frames = nr_pages;
    bump_next = pfn_x(first_free);
    bump_end = nr_pages;
    nr_free = nr_pages > bump_next ? nr_pages - bump_next : 0;
}

void frame_set_total(unsigned long total)
{
    BUG_ON(free_map || total < nr_frames);
    nr_free += total - nr_frames;
    nr_frames = total;
}

void frame_early_limit(pfn_t end)
{
    BUG_ON(free_map || pfn_x(end) > nr_frames);
    bump_end = pfn_x(end);
}

void frame_reserve(pfn_t pfn)
{
    unsigned long p = pfn_x(pfn);

    if ( p < bump_next || p >= nr_frames || is_reserved(p) || free_map )
        return;
    BUG_ON(nr_reserved == MAX_RESERVED);
    reserved[nr_reserved++] = p;
    nr_free--;
}

static pfn_t bump_alloc(void)
{
    while ( bump_next < bump_end && is_reserved(bump_next) )
        bump_next++;
    if ( bump_next >= bump_end )
        return INVALID_PFN;
    nr_free--;
    return _pfn(bump_next++);
}

pfn_t frame_alloc_contiguous(unsigned long count)
{
    unsigned long start = bump_next, p;

    BUG_ON(free_map);
    for ( p = start; p < start + count; p++ )
        if ( p >= bump_end || is_reserved(p) )
            return INVALID_PFN;
    bump_next += count;
    nr_free -= count;
    return _pfn(start);
}

pfn_t frame_early_next(void)
{
    return _pfn(bump_next);
}

static pfn_t bitmap_alloc(void)
{
    unsigned long words = (nr_frames + BITS_PER_WORD - 1) / BITS_PER_WORD;
    unsigned long i, w, bit;

    if ( !nr_free )
        return INVALID_PFN;
    for ( i = 0; i < words; i++ )
    {
        w = (hint_word + i) % words;
        if ( !free_map[w] )
            continue;
        bit = __builtin_ctzll(free_map[w]);
        free_map[w] &= ~(1ULL << bit);
        hint_word = w;
        nr_free--;
        return _pfn(w * BITS_PER_WORD + bit);
    }
    panic("frame: %lu frames counted free but none in the bitmap", nr_free);
}

pfn_t frame_alloc(void)
{
    pfn_t pfn;

    if ( inject_fire(INJECT_FRAME_ALLOC, NULL) )
        return INVALID_PFN;     /* as if memory had run out */
    if ( !free_map )
        return bump_alloc();
    spin_lock(&frame_lock);
    pfn = bitmap_alloc();
    spin_unlock(&frame_lock);
    return pfn;
}

static void free_locked(pfn_t pfn)
{
    unsigned long p = pfn_x(pfn);

    if ( !free_map )
        panic("frame_free(%#lx) before the full allocator exists", p);
    if ( p >= nr_frames )
        panic("frame_free(%#lx): beyond nr_pages %#lx", p, nr_frames);
    if ( free_map[p / BITS_PER_WORD] & (1ULL << (p % BITS_PER_WORD)) )
        panic("frame_free(%#lx): frame is already free", p);
    free_map[p / BITS_PER_WORD] |= 1ULL << (p % BITS_PER_WORD);
    nr_free++;
}

void frame_free(pfn_t pfn)
{
    spin_lock(&frame_lock);
    free_locked(pfn);
    spin_unlock(&frame_lock);
}

unsigned long frame_bitmap_pages(void)
{
    unsigned long words = (nr_frames + BITS_PER_WORD - 1) / BITS_PER_WORD;

    return (words * 8 + PAGE_SIZE - 1) / PAGE_SIZE;
}

void frame_full_init(void *bitmap)
{
    BUG_ON(free_map);
    memset(bitmap, 0, frame_bitmap_pages() * PAGE_SIZE);
    nr_free = 0;
    hint_word = bump_next / BITS_PER_WORD;
    free_map = bitmap;
}

void frame_free_range(pfn_t first, pfn_t end)
{
    unsigned long p;

    BUG_ON(!free_map || pfn_x(end) > nr_frames);
    spin_lock(&frame_lock);
    for ( p = pfn_x(first); p < pfn_x(end); p++ )
    {
        uint64_t bit = 1ULL << (p % BITS_PER_WORD);

        if ( is_reserved(p) )
            continue;
        if ( free_map[p / BITS_PER_WORD] & bit )
            panic("frame_free_range(%#lx, %#lx): pfn %#lx is already free",
                  pfn_x(first), pfn_x(end), p);
        free_map[p / BITS_PER_WORD] |= bit;
        nr_free++;
    }
    spin_unlock(&frame_lock);
}

bool frame_is_free(pfn_t pfn)
{
    unsigned long p = pfn_x(pfn);

    return free_map && p < nr_frames &&
           (free_map[p / BITS_PER_WORD] & (1ULL << (p % BITS_PER_WORD)));
}

bool frame_claim(pfn_t pfn)
{
    unsigned long p = pfn_x(pfn);
    bool claimed;

    spin_lock(&frame_lock);
    claimed = frame_is_free(pfn);
    if ( claimed )
    {
        free_map[p / BITS_PER_WORD] &= ~(1ULL << (p % BITS_PER_WORD));
        nr_free--;
    }
    spin_unlock(&frame_lock);
    return claimed;
}

unsigned long frame_free_count(void)
{
    return nr_free;
}

unsigned long frame_total(void)
{
    return nr_frames;
}
