/*
 * Frame allocator.
 *
 * Structure.  Early phase: bump_next is the next pfn to hand out; pfns
 * below it are in use for good (image, builder structures, early mm
 * allocations: the direct map's pagetables, the bitmap itself).  Full
 * phase: one bit per pfn < nr_pages in free_map, set = free, searched
 * from a rotating hint so consecutive allocations are cheap.
 *
 * Invariants: nr_free equals the number of set bits (full phase), or
 * bounds the unreserved pfns in [bump_next, nr_frames) (early phase).
 * nr_frames is one past the highest populated pfn, not nr_pages: as dom0
 * frames are moved out of E820 holes to pfns above nr_pages.  Pfns with
 * no frame behind them (holes) are never handed out.  A bitmap over
 * nr_pages bits is small (32 KiB per 1 GiB of guest), which is why it was
 * chosen over a buddy allocator: the kernel only ever asks for single
 * pages, and the p2m tests want to free arbitrary pfns cheaply.
 *
 * Who calls it: mm/ only.  Not locked.
 */
#include <pvmm/frame.h>
#include <pvmm/inject.h>
#include <pvmm/layout.h>
#include <pvmm/directmap.h>
#include <pvmm/p2m.h>
#include <pvmm/panic.h>
#include <pvmm/lib.h>

#define BITS_PER_WORD   64
#define MAX_RESERVED    4

static unsigned long nr_frames;
static unsigned long nr_free;
static unsigned long bump_next;
static unsigned long reserved[MAX_RESERVED];
static unsigned int nr_reserved;
static uint64_t *free_map;          /* NULL during the early phase */
static unsigned long hint_word;

/* Not to be handed out: reserved by the builder, or no frame behind it. */
static bool is_reserved(unsigned long pfn)
{
    unsigned int i;

    for ( i = 0; i < nr_reserved; i++ )
        if ( reserved[i] == pfn )
            return true;
    return !p2m_is_populated(_pfn(pfn));
}

void frame_early_init(pfn_t first_free, unsigned long nr_pages)
{
    nr_frames = nr_pages;
    bump_next = pfn_x(first_free);
    nr_free = nr_pages > bump_next ? nr_pages - bump_next : 0;
}

void frame_set_total(unsigned long total)
{
    BUG_ON(free_map || total < nr_frames);
    nr_free += total - nr_frames;
    nr_frames = total;
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
    while ( bump_next < nr_frames && is_reserved(bump_next) )
        bump_next++;
    if ( bump_next >= nr_frames )
        return INVALID_PFN;
    nr_free--;
    return _pfn(bump_next++);
}

pfn_t frame_alloc_contiguous(unsigned long count)
{
    unsigned long start = bump_next, p;

    BUG_ON(free_map);
    for ( p = start; p < start + count; p++ )
        if ( p >= nr_frames || is_reserved(p) )
            return INVALID_PFN;
    bump_next += count;
    nr_free -= count;
    return _pfn(start);
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
    if ( inject_fire(INJECT_FRAME_ALLOC, NULL) )
        return INVALID_PFN;     /* as if memory had run out */
    return free_map ? bitmap_alloc() : bump_alloc();
}

void frame_free(pfn_t pfn)
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

int frame_full_init(pfn_t low_end)
{
    unsigned long words = (nr_frames + BITS_PER_WORD - 1) / BITS_PER_WORD;
    unsigned long pages = (words * 8 + PAGE_SIZE - 1) / PAGE_SIZE;
    pfn_t first = frame_alloc_contiguous(pages);
    uint64_t *map;
    unsigned long p;

    if ( pfn_eq(first, INVALID_PFN) )
        return -XEN_ENOMEM;
    map = directmap_va(first);
    memset(map, 0, pages * PAGE_SIZE);
    nr_free = 0;
    for ( p = 0; p < nr_frames; p++ )
    {
        if ( (p >= pfn_x(low_end) && p < bump_next) || is_reserved(p) )
            continue;
        map[p / BITS_PER_WORD] |= 1ULL << (p % BITS_PER_WORD);
        nr_free++;
    }
    hint_word = bump_next / BITS_PER_WORD;
    free_map = map;
    return 0;
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

    if ( !frame_is_free(pfn) )
        return false;
    free_map[p / BITS_PER_WORD] &= ~(1ULL << (p % BITS_PER_WORD));
    nr_free--;
    return true;
}

unsigned long frame_free_count(void)
{
    return nr_free;
}

unsigned long frame_total(void)
{
    return nr_frames;
}
