/*
 * The memory map: which pfns are RAM, which are identity, and (as dom0)
 * moving frames out of the holes.
 *
 * Source: XENMEM_machine_memory_map as dom0 (the host's E820: dom0's
 * pfns line up with machine addresses for MMIO), XENMEM_memory_map as a
 * domU (libxl sets one RAM range up to maxmem; without one, -ENOSYS, RAM
 * is taken to be every pfn up to the maximum reservation).
 *
 * A pfn is RAM if its whole page lies in a RAM range.  Identity: every
 * non-RAM pfn below the end of the last RAM range and, as dom0, everything
 * above it (MMIO).  A domU has no MMIO: above its RAM, up to the p2m's size
 * and beyond it, pfns are missing (room to balloon into).  As dom0 the
 * builder populated pfns 0..nr_pages-1 regardless of the map, so pfns in
 * the 640 KiB-1 MiB hole (and in the PCI hole, with more than ~3 GiB) hold
 * frames.  Those frames are moved, not lost: each run gets unpopulated RAM
 * pfns above nr_pages (M2P updated with MMU_MACHPHYS_UPDATE), and the boot
 * view reads them there.  The image starts 2 MiB in (linker.ld), so no hole
 * overlaps anything in use.
 *
 * Invariant: a hole pfn below nr_pages is identity, never populated, and
 * its frame is at exactly one other place.  When no RAM pfn is left to
 * move it to (no RAM above nr_pages, more runs than MAX_MOVES, or the
 * remap_max= option), the frame is given back to Xen instead, as Linux
 * does: p2m_e820_release() does that once bootmap_protect_image() has
 * dropped the builder's mapping of it, and the populated count is then
 * nr_pages less the released frames.
 */
#include <pvmm/p2m_boot.h>
#include <pvmm/hypercall.h>
#include <pvmm/memory.h>
#include <pvmm/multicall.h>
#include <pvmm/bootmap.h>
#include <pvmm/printk.h>
#include <pvmm/panic.h>

#define E820_MAX        128
#define E820_RAM        1
#define MAX_RANGES      64
#define MAX_MOVES       32

struct e820_entry {
    uint64_t addr;
    uint64_t size;
    uint32_t type;
} __attribute__((packed));

struct pfn_range {
    unsigned long first, end;       /* [first, end) */
};

struct move {
    unsigned long target, source, count;
};

static struct e820_entry map[E820_MAX];
static unsigned int nr_map;
static struct pfn_range ram[MAX_RANGES], identity[MAX_RANGES];
static unsigned int nr_ram, nr_identity;
static struct move moves[MAX_MOVES];
static unsigned int nr_moves;
/* Hole pfns whose frames go back to Xen: no RAM pfn was left for them. */
static struct pfn_range releases[MAX_RANGES];
static unsigned int nr_releases;
static unsigned long remap_left, released_pages;
static unsigned long ram_end, populated_end;
static bool above_ram_is_identity;

bool p2m_e820_above_ram_is_identity(void)
{
    return above_ram_is_identity;
}

bool p2m_e820_is_identity(unsigned long pfn)
{
    unsigned int i;

    if ( above_ram_is_identity && pfn >= ram_end )
        return true;
    for ( i = 0; i < nr_identity; i++ )
        if ( pfn >= identity[i].first && pfn < identity[i].end )
            return true;
    return false;
}

bool p2m_e820_move_source(unsigned long pfn, unsigned long *source)
{
    unsigned int i;

    for ( i = 0; i < nr_moves; i++ )
        if ( pfn - moves[i].target < moves[i].count )
        {
            *source = moves[i].source + (pfn - moves[i].target);
            return true;
        }
    return false;
}

unsigned long p2m_e820_moved_to(unsigned long pfn)
{
    unsigned int i;

    for ( i = 0; i < nr_moves; i++ )
        if ( pfn - moves[i].source < moves[i].count )
            return moves[i].target + (pfn - moves[i].source);
    return pfn;
}

bool p2m_e820_is_ram(pfn_t pfn)
{
    unsigned int i;

    for ( i = 0; i < nr_ram; i++ )
        if ( pfn_x(pfn) >= ram[i].first && pfn_x(pfn) < ram[i].end )
            return true;
    return false;
}

unsigned long p2m_e820_ram_end(void)
{
    return ram_end;
}

unsigned long p2m_e820_populated_end(void)
{
    return populated_end;
}

static int read_map(bool dom0, unsigned long fallback_pages)
{
    struct xen_memory_map m = { .nr_entries = E820_MAX };
    long rc;

    set_xen_guest_handle(m.buffer, map);
    rc = HYPERVISOR_memory_op(dom0 ? XENMEM_machine_memory_map
                                   : XENMEM_memory_map, &m);
    if ( rc == -XEN_ENOSYS && !dom0 )
    {
        map[0] = (struct e820_entry){ 0, fallback_pages << PAGE_SHIFT,
                                      E820_RAM };
        nr_map = 1;
        return 0;
    }
    if ( rc )
        return rc;
    nr_map = m.nr_entries;
    return 0;
}

/* Sorted RAM pfn ranges from the map, whole pages only. */
static int collect_ram(void)
{
    unsigned int i, j;

    for ( i = 0; i < nr_map; i++ )
    {
        unsigned long first, end;

        if ( map[i].type != E820_RAM )
            continue;
        first = (map[i].addr + PAGE_SIZE - 1) >> PAGE_SHIFT;
        end = (map[i].addr + map[i].size) >> PAGE_SHIFT;
        if ( first >= end )
            continue;
        if ( nr_ram == MAX_RANGES )
            return -XEN_E2BIG;
        for ( j = nr_ram++; j > 0 && ram[j - 1].first > first; j-- )
            ram[j] = ram[j - 1];
        ram[j] = (struct pfn_range){ first, end };
        ram_end = MAX(ram_end, end);
    }
    return nr_ram ? 0 : -XEN_ENOENT;
}

/* Gaps between RAM ranges (overlaps and adjacency merged). */
static void collect_identity(void)
{
    unsigned long covered = 0;
    unsigned int i;

    for ( i = 0; i < nr_ram; i++ )
    {
        if ( ram[i].first > covered && nr_identity < MAX_RANGES )
            identity[nr_identity++] = (struct pfn_range){ covered,
                                                          ram[i].first };
        covered = MAX(covered, ram[i].end);
    }
}

/* Next unpopulated RAM pfn at or after *cursor; false if none. */
static bool next_target(unsigned long *cursor, unsigned long *room)
{
    unsigned int i;

    for ( i = 0; i < nr_ram; i++ )
    {
        if ( ram[i].end <= *cursor )
            continue;
        *cursor = MAX(*cursor, ram[i].first);
        *room = ram[i].end - *cursor;
        return true;
    }
    return false;
}

/* Hole pfns [first, end) give their frames back: p2m_e820_release(). */
static int plan_release(unsigned long first, unsigned long end)
{
    if ( nr_releases == MAX_RANGES )
        return -XEN_E2BIG;
    printk("p2m: no RAM pfn left to move the frames of pfns %#lx-%#lx to: "
           "giving them back to Xen\n", first, end - 1);
    releases[nr_releases++] = (struct pfn_range){ first, end };
    return 0;
}

/*
 * Moves the populated pfns [first, end) to RAM pfns from *cursor up;
 * whatever finds no room is planned for release.
 */
static int move_run(unsigned long first, unsigned long end,
                    unsigned long *cursor)
{
    const unsigned long *list = (const unsigned long *)
                                p2m_start_info->mfn_list;
    unsigned long room, n, i;
    int rc;

    while ( first < end )
    {
        if ( !next_target(cursor, &room) || nr_moves == MAX_MOVES ||
             !remap_left )
            return plan_release(first, end);
        n = MIN(MIN(room, end - first), remap_left);
        for ( i = 0; i < n; i++ )
            if ( (rc = mc_mmu_update(((uint64_t)list[first + i] << PAGE_SHIFT)
                                     | MMU_MACHPHYS_UPDATE,
                                     *cursor + i)) != 0 )
                return rc;
        moves[nr_moves++] = (struct move){ *cursor, first, n };
        populated_end = MAX(populated_end, *cursor + n);
        remap_left -= n;
        *cursor += n;
        first += n;
    }
    return 0;
}

/* dom0: every identity range inside [0, nr_pages) gives its frames away. */
static int remap_holes(void)
{
    unsigned long nr = p2m_start_info->nr_pages;
    /* From the next chunk: the tail of nr_pages' last chunk stays INVALID. */
    unsigned long cursor = ROUNDUP(nr, P2M_PER_PAGE);
    unsigned int i;
    int rc;

    for ( i = 0; i < nr_identity; i++ )
    {
        unsigned long first = identity[i].first;
        unsigned long end = MIN(identity[i].end, nr);

        if ( first >= end )
            continue;
        if ( end > pfn_x(boot_va_to_pfn(_text)) &&
             first < pfn_x(bootmap.used_end) )
            panic("p2m: E820 hole at pfns %#lx-%#lx overlaps the kernel's "
                  "area", first, end - 1);
        if ( (rc = move_run(first, end, &cursor)) != 0 )
            return rc;
    }
    return mc_flush();
}

/*
 * Gives back the frames of the planned runs, in batches from the
 * builder's list (for a PV guest an extent is an mfn).  Call it once no
 * mapping of them is left, or Xen keeps each frame until its last one goes.
 */
int p2m_e820_release(void)
{
    unsigned long *list = (unsigned long *)p2m_start_info->mfn_list;
    unsigned int i;
    long done;

    for ( i = 0; i < nr_releases; i++ )
    {
        unsigned long first = releases[i].first, end = releases[i].end;

        while ( first < end )
        {
            done = xen_reservation_op(XENMEM_decrease_reservation,
                                      &list[first], end - first);
            if ( done <= 0 )
            {
                printk("p2m: Xen took back no frame of pfns %#lx-%#lx "
                       "(mfn %#lx first): %ld\n", first, end - 1,
                       list[first], done);
                return done ? (int)done : -XEN_EBUSY;
            }
            if ( (unsigned long)done < end - first )
                printk("p2m: Xen took %ld of the %lu frames of pfns "
                       "%#lx-%#lx: asking for the rest\n", done, end - first,
                       first, end - 1);
            released_pages += done;
            first += done;
        }
    }
    return 0;
}

unsigned long p2m_e820_released(void)
{
    return released_pages;
}

int p2m_e820_init(const start_info_t *si, unsigned long remap_max)
{
    bool dom0 = si->flags & SIF_INITDOMAIN;
    int rc = read_map(dom0, MAX(si->nr_pages, p2m_max_reservation));

    if ( !rc )
        rc = collect_ram();
    if ( rc )
    {
        printk("p2m: cannot read the %s memory map: %d\n",
               dom0 ? "machine" : "pseudo-physical", rc);
        return rc;
    }
    /* The builder populated 0..nr_pages-1: never call those identity. */
    ram_end = MAX(ram_end, si->nr_pages);
    collect_identity();
    populated_end = si->nr_pages;
    above_ram_is_identity = dom0;
    remap_left = remap_max;
    return dom0 ? remap_holes() : 0;
}

void p2m_e820_print(void)
{
    unsigned long moved = 0, planned = 0;
    unsigned int i;

    for ( i = 0; i < nr_moves; i++ )
        moved += moves[i].count;
    for ( i = 0; i < nr_releases; i++ )
        planned += releases[i].end - releases[i].first;
    printk("p2m: memory map: %u entries, %u RAM ranges ending at pfn %#lx, "
           "%u holes below it; %lu frames moved out of holes, %lu given "
           "back; maximum reservation %#lx pages\n", nr_map, nr_ram,
           ram_end, nr_identity, moved, planned,
           p2m_max_reservation);
    for ( i = 0; i < nr_moves; i++ )
        printk("p2m:   pfns %#lx-%#lx -> %#lx-%#lx\n", moves[i].source,
               moves[i].source + moves[i].count - 1, moves[i].target,
               moves[i].target + moves[i].count - 1);
}
