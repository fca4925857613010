/*
 * The boot view of the p2m, and the revector out of it.
 *
 *   builder's mfn_list --(p2m_tree_build)--> three-level tree
 *        + E820 overlay (mm/p2m_e820.c): identity ranges, frames moved
 *          out of holes
 *   = the boot view: p2m_boot_entry(pfn), the slow path until revector
 *   --(p2m_revector: the core's p2m_build)--> linear p2m at P2M_BASE
 *
 * After the build, Xen's M2P checks the result against the builder's
 * list (p2m_crosscheck), and the list and the tree go back to the
 * allocator.
 *
 * Boot only: vCPU 0, before any secondary starts.
 */
#include <pvmm/p2m_boot.h>
#include <pvmm/hypercall.h>
#include <pvmm/frame.h>
#include <pvmm/frame_map.h>
#include <pvmm/layout.h>
#include <pvmm/panic.h>

start_info_t *p2m_start_info;
unsigned long p2m_max_reservation;

static struct p2m_tree boot_tree;

/* Tree pages at boot: bump frames inside the builder's mapping. */
static void *boot_page_alloc(void)
{
    pfn_t pfn = frame_alloc();

    if ( pfn_eq(pfn, INVALID_PFN) || !bootmap_covers(pfn) )
        return NULL;
    return boot_pfn_to_va(pfn);
}

static void boot_page_free(void *page)
{
    frame_free(boot_va_to_pfn(page));
}

static const struct p2m_tree_pages boot_pages = {
    boot_page_alloc, boot_page_free,
};

/* Tree pages once the direct map exists: any free frame. */
static void *runtime_page_alloc(void)
{
    pfn_t pfn = frame_alloc();

    return pfn_eq(pfn, INVALID_PFN) ? NULL : directmap_va(pfn);
}

static void runtime_page_free(void *page)
{
    frame_free(_pfn(((unsigned long)page - DIRECTMAP_BASE) >> PAGE_SHIFT));
}

const struct p2m_tree_pages p2m_tree_runtime_pages = {
    runtime_page_alloc, runtime_page_free,
};

void p2m_init(start_info_t *si)
{
    domid_t self = DOMID_SELF;
    long rc;

    p2m_lookup_init();
    p2m_start_info = si;
    p2m_lookup_set_resolver(p2m_boot_entry);
    rc = HYPERVISOR_memory_op(XENMEM_maximum_reservation, &self);
    if ( rc < 0 )
        panic("XENMEM_maximum_reservation failed: %ld", rc);
    p2m_max_reservation = rc;
}

/* Needs the early frame allocator: after bootmap_init, frame_early_init. */
void p2m_tree_init(void)
{
    const start_info_t *si = p2m_start_info;
    struct p2m_tree t;
    int rc = p2m_tree_build(&t, (const unsigned long *)si->mfn_list,
                            si->nr_pages, &boot_pages);

    if ( rc )
        panic("p2m: cannot build the boot tree for %lu pfns: %d",
              si->nr_pages, rc);
    /*
     * Published only when whole: the allocator feeding the build asks the
     * boot view whether each pfn has a frame.
     */
    boot_tree = t;
}

/* The builder's mfn_list: every pfn's frame at start, until revector. */
static const unsigned long *builder_list(void)
{
    return (const unsigned long *)p2m_start_info->mfn_list;
}

unsigned long p2m_boot_entry(unsigned long pfn)
{
    const unsigned long *list = builder_list();
    unsigned long source;

    /* Until the tree exists (bootmap_init walks pagetables before it). */
    if ( !boot_tree.top )
        return pfn < p2m_start_info->nr_pages ? list[pfn] : INVALID_P2M_ENTRY;

    if ( p2m_e820_is_identity(pfn) )
        return IDENTITY_FRAME(pfn);
    if ( p2m_e820_move_source(pfn, &source) )
        return p2m_tree_lookup(&boot_tree, source);
    if ( pfn < boot_tree.nr )
        return p2m_tree_lookup(&boot_tree, pfn);
    return INVALID_P2M_ENTRY;
}

struct p2m_crosscheck p2m_crosscheck;

static void crosscheck_mismatch(unsigned long pfn, unsigned long list,
                                unsigned long tree, unsigned long linear)
{
    struct p2m_crosscheck *x = &p2m_crosscheck;

    if ( !x->mismatches++ )
    {
        x->first_pfn = pfn;
        x->list = list;
        x->tree = tree;
        x->linear = linear;
    }
}

/*
 * Where Xen's M2P puts the builder's frame of pfn: its pfn, the pfn it was
 * moved to, or ~0 if the frame was given back (no longer ours to read).
 */
static unsigned long m2p_home(unsigned long pfn, unsigned long mfn)
{
    if ( p2m_e820_is_identity(pfn) && p2m_e820_moved_to(pfn) == pfn )
        return ~0UL;
    return machine_to_phys_mapping[mfn];
}

/*
 * Right after the revector, before the builder's list is freed.  The
 * independent witness is Xen's M2P: for every pfn the list covers, the
 * linear p2m must hold the list's frame at the pfn the M2P names, and a
 * hole pfn (its frame moved or given back) must read identity.  The tree
 * must say what the list says, and its padded tail, like the linear p2m's,
 * must read INVALID (identity where the tail is a hole).
 */
static void p2m_boot_crosscheck(void)
{
    const unsigned long *list = builder_list();
    unsigned long nr = boot_tree.nr, pfn, t, l, home, at_home;
    bool bad, hole;

    p2m_crosscheck.list_first_pfn = pfn_x(boot_va_to_pfn(list));
    p2m_crosscheck.list_pages = (nr * sizeof(*list) + PAGE_SIZE - 1) /
                                PAGE_SIZE;

    for ( pfn = 0; pfn < ROUNDUP(nr, P2M_PER_PAGE); pfn++ )
    {
        t = p2m_tree_lookup(&boot_tree, pfn);
        l = pfn < nr ? list[pfn] : INVALID_P2M_ENTRY;
        home = pfn < nr ? m2p_home(pfn, l) : pfn;
        at_home = home == ~0UL ? INVALID_P2M_ENTRY : p2m_get_entry(_pfn(home));
        p2m_crosscheck.checked++;
        hole = p2m_e820_is_identity(pfn);
        if ( hole )
            bad = p2m_get_entry(_pfn(pfn)) != IDENTITY_FRAME(pfn) ||
                  (pfn < nr && home != ~0UL &&
                   (home == pfn || at_home != l));
        else
            bad = at_home != l || home != pfn;
        if ( t != l || bad )
            crosscheck_mismatch(pfn, l, t, at_home);
    }
}

/* The builder's list and the tree are not needed once revectored. */
static void p2m_boot_release(void)
{
    unsigned long list = p2m_start_info->mfn_list, va;
    unsigned long end = list + boot_tree.nr * sizeof(unsigned long);

    p2m_tree_destroy(&boot_tree, &boot_pages);
    for ( va = list; va < end; va += PAGE_SIZE )
        frame_free(boot_va_to_pfn((void *)va));
}

unsigned long p2m_unpopulated_entry(pfn_t pfn)
{
    return p2m_e820_is_identity(pfn_x(pfn)) ? IDENTITY_FRAME(pfn_x(pfn))
                                            : INVALID_P2M_ENTRY;
}

pfn_t p2m_populated_end(void)
{
    return _pfn(MAX(p2m_start_info->nr_pages, p2m_e820_populated_end()));
}

/*
 * A maximum reservation of 2^32-1 pages is Xen saying "no limit" (dom0
 * gets it): it says nothing about how large the p2m should be.
 */
#define RESERVATION_UNLIMITED   0xffffffffUL

/*
 * The p2m's size (docs/design.md, "Size and growth"), clamped to what
 * the VA area holds.
 */
static unsigned long initial_size(void)
{
    const start_info_t *si = p2m_start_info;
    unsigned long size = MAX(si->nr_pages, pfn_x(p2m_populated_end()));

    if ( p2m_max_reservation < RESERVATION_UNLIMITED )
        size = MAX(size, p2m_max_reservation);
    /*
     * Every RAM pfn of the memory map: the host's as dom0; a domU's runs
     * to maxmem, above the maximum reservation (libxl sets that to the
     * target), as in Linux, so ballooning up to maxmem never grows it.
     */
    size = MAX(size, p2m_e820_ram_end());
    size = ROUNDUP(size, P2M_PER_PAGE);
    return MIN(size, P2M_MAX_PFNS);
}

int p2m_revector(void)
{
    const struct p2m_build b = {
        .size = initial_size(),
        /* Hole frames moved are still ours; those given back are not. */
        .populated = p2m_start_info->nr_pages - p2m_e820_released(),
        .boot_entry = p2m_boot_entry,
        .unwritten_identity = p2m_e820_above_ram_is_identity(),
        .nr_pages = p2m_start_info->nr_pages,
    };
    int rc = p2m_build(&b);

    if ( rc )
        return rc;
    p2m_boot_crosscheck();
    p2m_boot_release();                 /* reads the old mfn_list */
    p2m_start_info->mfn_list = P2M_BASE;
    return 0;
}
