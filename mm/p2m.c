/*
 * The p2m, part 1: boot, and lookups.
 *
 *   builder's mfn_list --(p2m_tree_build)--> three-level tree (boot view)
 *        + E820 overlay: identity ranges, frames moved out of holes
 *   --(p2m_revector, mm/p2m_linear.c)--> linear p2m at P2M_BASE
 *
 * The fast path, p2m_get_entry() in include/pvmm/p2m.h, is one load for
 * pfn < p2m_size.  Everything else lands in p2m_lookup_slow(): before the
 * revector (p2m_size is 0 then) it answers from the boot view; after it,
 * an INVALID entry is told apart as missing or identity by the page that
 * backs it, and any pfn at or beyond p2m_size is identity.
 *
 * Not locked: one vcpu.
 */
#include "p2m_internal.h"
#include <pvmm/hypercall.h>
#include <pvmm/frame.h>
#include <pvmm/bootmap.h>
#include <pvmm/directmap.h>
#include <pvmm/layout.h>
#include <pvmm/printk.h>
#include <pvmm/panic.h>
#include <pvmm/lib.h>
#include <pvmm/traps.h>

unsigned long p2m_size;
start_info_t *p2m_start_info;
unsigned long p2m_max_reservation;

static struct p2m_tree boot_tree;
static unsigned long max_mfn;

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

void p2m_init(const start_info_t *si)
{
    struct xen_machphys_mapping m2p;
    domid_t self = DOMID_SELF;
    long rc = HYPERVISOR_memory_op(XENMEM_machphys_mapping, &m2p);

    if ( rc )
        panic("XENMEM_machphys_mapping failed: %ld", rc);
    max_mfn = m2p.max_mfn;
    p2m_start_info = (start_info_t *)si;

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

unsigned long p2m_boot_entry(unsigned long pfn)
{
    const unsigned long *list = (const unsigned long *)p2m_start_info->mfn_list;
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
void p2m_boot_crosscheck(void)
{
    const unsigned long *list = (const unsigned long *)p2m_start_info->mfn_list;
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
void p2m_boot_release(void)
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

unsigned long p2m_lookup_slow(pfn_t pfn)
{
    unsigned long p = pfn_x(pfn);

    if ( !p2m_size )
        return p2m_boot_entry(p);
    if ( p >= p2m_size )
        return IDENTITY_FRAME(p);
    if ( mfn_eq(p2m_chunk_leaf(p / P2M_PER_PAGE), p2m_shared.identity_mfn) )
        return IDENTITY_FRAME(p);
    return INVALID_P2M_ENTRY;
}

/*
 * Xen maps the M2P only where there is machine memory: the entry of an
 * mfn in a machine hole (the PCI hole, say) is an unmapped page, so it is
 * read through the exception table rather than trusted to be there.
 */
unsigned long p2m_m2p_raw(mfn_t mfn)
{
    struct exc_fault fault;
    uint64_t pfn;

    if ( mfn_x(mfn) > max_mfn ||
         exc_probe_read(&machine_to_phys_mapping[mfn_x(mfn)], &pfn, &fault) )
        return ~0UL;
    return pfn;
}

/*
 * The M2P's answer, believed only if the p2m agrees.  An mfn the M2P
 * does not map back (MMIO, a machine hole) may still be a pfn of ours:
 * an identity pfn, whose "mfn" is the pfn itself.
 */
pfn_t mfn_to_pfn(mfn_t mfn)
{
    unsigned long pfn = p2m_m2p_raw(mfn), m = mfn_x(mfn);

    if ( pfn != ~0UL && p2m_get_entry(_pfn(pfn)) == m )
        return _pfn(pfn);
    if ( m < P2M_MAX_PFNS && p2m_get_entry(_pfn(m)) == IDENTITY_FRAME(m) )
        return _pfn(m);
    return INVALID_PFN;
}
