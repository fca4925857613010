/*
 * mm across a suspend (docs/suspend.md): the top layer's half of it, the
 * one place that knows every module caching a machine frame.
 *
 * What caches an mfn, and how each gets the new one after a restore:
 *   - the kernel's root (pt_kernel_root, bootmap.root): kept by pfn;
 *   - the p2m core's shared pages and frame list (p2m_core_suspend);
 *   - PMAP slots in use (pmap_suspend);
 *   - the machine's size, bounding M2P reads (re-read from Xen: a restore
 *     may land on another host).
 * Everything else in mm is kept by pfn (the allocator, the roles, the
 * balloon) or is a pagetable of a pinned tree, which the tools rewrite.
 *
 * Trees that are not pinned are pinned for the suspend: their pages are
 * plain memory to Xen, saved as they are, and their mfns would be stale
 * on the new frames.  Pinned, the tools turn their entries into pfns on
 * save and back on restore; mm_resume() unpins them again.
 *
 * Invariant: between mm_suspend_enter() and mm_resume() the only code that
 * runs is the suspend path in xen/suspend.c, which reads the M2P and
 * populated p2m entries (never the slow path) and changes no mapping but
 * shared_info's.
 */
#include <pvmm/mm.h>
#include <pvmm/bootmap.h>
#include <pvmm/p2m_core.h>
#include <pvmm/pmap.h>
#include <pvmm/pt.h>
#include <pvmm/printk.h>
#include <pvmm/panic.h>
#include <pvmm/time.h>
#include <pvmm/multicall.h>

static struct {
    pfn_t pinned[MM_SUSPEND_MAX_TREES];
    unsigned int nr_pinned;
    bool prepared;
    pfn_t root;
} held;

int mm_suspend_prepare(void)
{
    int rc = pt_pin_all(held.pinned, MM_SUSPEND_MAX_TREES, &held.nr_pinned);

    if ( rc )
        return rc;
    if ( (rc = pmap_suspend()) != 0 )
    {
        mm_suspend_abort();
        return rc;
    }
    held.prepared = true;
    return 0;
}

/* Unpins what prepare pinned; the frames of the trees are current. */
static void unpin_held(void)
{
    int rc;

    while ( held.nr_pinned )
    {
        pfn_t pfn = held.pinned[--held.nr_pinned];

        if ( (rc = pt_unpin(pfn_to_mfn(pfn))) != 0 )
            panic("mm: resume: cannot unpin the tree at pfn %#lx: %d",
                  pfn_x(pfn), rc);
    }
}

void mm_suspend_abort(void)
{
    unpin_held();
    held.prepared = false;
}

void mm_suspend_enter(void)
{
    BUG_ON(!held.prepared);
    held.root = mfn_to_pfn(pt_kernel_root());
    BUG_ON(pfn_eq(held.root, INVALID_PFN));
    p2m_core_suspend();
}

void mm_resume(struct mm_resume_stats *st)
{
    struct mc_stats mc0 = *mc_get_stats();
    uint64_t t0 = rdtsc();
    mfn_t root;
    int rc;

    BUG_ON(!held.prepared);
    /*
     * The root first: the p2m publishes it as p2m_cr3.  A populated pfn
     * reads the p2m's fast path, which needs none of the core's pages.
     */
    root = pfn_to_mfn(held.root);
    if ( mfn_eq(root, INVALID_MFN) )
        panic("mm: resume: the kernel's root (pfn %#lx) has no frame",
              pfn_x(held.root));
    pt_set_kernel_root(root);
    bootmap.root = root;
    if ( (rc = p2m_core_resume(&st->rederived)) != 0 )
        panic("mm: resume: the p2m's pages are gone: %d", rc);
    p2m_lookup_init();
    st->rederived += 3 + pmap_resume();    /* + the root twice, max_mfn */
    st->pinned = held.nr_pinned;
    unpin_held();
    held.prepared = false;
    st->hypercalls = mc_get_stats()->hypercalls - mc0.hypercalls;
    st->mmu_ops = mc_get_stats()->mmu_ops - mc0.mmu_ops;
    st->cycles = rdtsc() - t0;
}
