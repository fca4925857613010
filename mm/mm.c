/*
 * mm bring-up: from the builder's area to a direct map and a full frame
 * allocator.  Each step depends on the one before:
 *
 *   p2m (builder's list) -> bootmap (extent of the builder's area)
 *   -> early allocator (bump over the slack) -> p2m tree
 *   -> memory map (identity ranges; as dom0, frames moved out of holes)
 *   -> fixmap L1 + PMAP -> image permissions -> direct map (built once,
 *   on the final pfn layout) -> frame roles -> full allocator
 *   -> linear p2m (revector) -> frame list for the tools
 *
 * The top layer of mm (mm/LAYERS): the one file that knows every other.
 * It feeds the frame allocator, which asks no one which frames exist:
 * the bump phase ends before the first pfn with no frame, and the full
 * phase gets every populated run the bump phase did not hand out.
 */
#include <pvmm/mm.h>
#include <pvmm/bootmap.h>
#include <pvmm/directmap.h>
#include <pvmm/frame.h>
#include <pvmm/frame_map.h>
#include <pvmm/p2m_boot.h>
#include <pvmm/pmap.h>
#include <pvmm/pt.h>
#include <pvmm/printk.h>
#include <pvmm/panic.h>
#include <pvmm/lib.h>
#include <pvmm/cmdline.h>
#include <pvmm/time.h>

struct mm_boot_stats mm_boot_stats;

static void p2m_print_stats(void)
{
    struct p2m_stats st;

    p2m_get_stats(&st);
    printk("mm: p2m of %lu pfns (%lu populated): %lu private leaves, "
           "%lu chunks on p2m_missing, %lu on p2m_identity; L1s: %lu private, "
           "%lu shared; L2s: %lu private, %lu shared; %lu frame-list pages\n",
           st.size, st.populated, st.private_leaves, st.missing_leaf_maps,
           st.identity_leaf_maps, st.private_l1, st.shared_l1_maps,
           st.private_l2, st.shared_l2_maps, st.frame_list_pages);
    printk("mm: revector: %lu hypercalls, %lu multicall entries, %lu mmu ops, "
           "%lu TLB flushes\n", mm_boot_stats.revector.mc.hypercalls,
           mm_boot_stats.revector.mc.entries,
           mm_boot_stats.revector.mc.mmu_ops,
           mm_boot_stats.revector.mc.tlb_flushes);
}

/* Starts measuring a step. */
static void step_begin(struct mm_step_cost *c)
{
    c->mc = *mc_get_stats();
    c->cycles = rdtsc();
}

/* Turns the snapshot into what the step cost. */
static void step_end(struct mm_step_cost *c)
{
    const struct mc_stats *now = mc_get_stats();

    c->cycles = rdtsc() - c->cycles;
    c->mc = (struct mc_stats){
        .hypercalls = now->hypercalls - c->mc.hypercalls,
        .entries = now->entries - c->mc.entries,
        .mmu_ops = now->mmu_ops - c->mc.mmu_ops,
        .tlb_flushes = now->tlb_flushes - c->mc.tlb_flushes,
        .invlpgs = now->invlpgs - c->mc.invlpgs,
    };
}

/* Frames the builder gave a domU for its console and xenstore. */
static void reserve_special_pages(const start_info_t *si)
{
    if ( si->flags & SIF_INITDOMAIN )
        return;
    frame_reserve(mfn_to_pfn(_mfn(si->console.domU.mfn)));
    frame_reserve(mfn_to_pfn(_mfn(si->store_mfn)));
}

/* The first pfn in [pfn, end) with no frame behind it, or end. */
static unsigned long populated_run_end(unsigned long pfn, unsigned long end)
{
    while ( pfn < end && p2m_is_populated(_pfn(pfn)) )
        pfn++;
    return pfn;
}

/* Frees every populated run of [pfn, end) into the full allocator. */
static void free_populated(unsigned long pfn, unsigned long end)
{
    unsigned long run_end;

    while ( pfn < end )
    {
        if ( !p2m_is_populated(_pfn(pfn)) )
        {
            pfn++;
            continue;
        }
        run_end = populated_run_end(pfn, end);
        frame_free_range(_pfn(pfn), _pfn(run_end));
        pfn = run_end;
    }
}

/*
 * Once the memory map has made holes: the bump phase must not reach one.
 * Returns where it now ends; everything from its next pfn to there has a
 * frame (and keeps it: nothing before the full allocator moves RAM).
 */
static unsigned long frame_early_fit(void)
{
    unsigned long end = populated_run_end(pfn_x(frame_early_next()),
                                          frame_total());

    frame_early_limit(_pfn(end));
    return end;
}

/*
 * The full allocator: free are the unused pages the builder mapped below
 * the image (pfns under low_end) and every populated pfn the bump phase
 * did not reach, the run up to early_end known populated already.
 */
static int frame_full_start(pfn_t low_end, unsigned long early_end)
{
    pfn_t bitmap = frame_alloc_contiguous(frame_bitmap_pages());

    if ( pfn_eq(bitmap, INVALID_PFN) )
        return -XEN_ENOMEM;
    frame_full_init(directmap_va(bitmap));
    free_populated(0, pfn_x(low_end));
    frame_free_range(frame_early_next(), _pfn(early_end));
    free_populated(early_end, frame_total());
    return 0;
}

/* One L1 for the fixmap, in the builder's L2 for the kernel's 1 GiB. */
static void fixmap_init(void)
{
    pfn_t pfn = frame_alloc();
    unsigned int index;
    mfn_t l2;
    int rc;

    if ( pfn_eq(pfn, INVALID_PFN) || !bootmap_covers(pfn) )
        panic("mm: no mapped frame left after the builder's area for the "
              "fixmap (pfn %#lx, mapped up to %#lx)", pfn_x(pfn),
              pfn_x(bootmap.mapped_end));
    memset(boot_pfn_to_va(pfn), 0, PAGE_SIZE);
    pt_roles_early_range(pfn, 1);

    rc = pt_walk(pt_kernel_root(), FIXMAP_BASE, 2, &l2, &index);
    if ( !rc && pt_get_entry(l2, index) )
        rc = -XEN_EEXIST;
    if ( !rc )
        rc = pt_link(l2, index, pfn_to_mfn(pfn), 1);
    if ( rc )
        panic("mm: cannot link the fixmap L1 at %#lx: %d", FIXMAP_BASE, rc);
    pmap_init();
}

/*
 * The linear list (p2m_cr3) for the tools: as the command line says, by
 * default only if they say they read it (SIF_VIRT_P2M_4TOOLS), as Linux.
 */
static bool publish_linear_list(const start_info_t *si,
                                const struct boot_options *opts)
{
    if ( opts->p2m_list == P2M_LIST_TREE )
        return false;
    return opts->p2m_list == P2M_LIST_LINEAR ||
           (si->flags & SIF_VIRT_P2M_4TOOLS);
}

/* The verbose boot's account of what mm built and what it cost. */
static void print_boot_summary(void)
{
    printk("mm: builder's area used to pfn %#lx, mapped to %#lx\n",
           pfn_x(bootmap.used_end), pfn_x(bootmap.mapped_end));
    printk("mm: direct map of %lu pages: %lu pagetable pages, "
           "%lu hypercalls, %lu multicall entries, %lu mmu ops, "
           "%lu TLB flushes\n", directmap.nr_pfns,
           mm_boot_stats.directmap_pages,
           mm_boot_stats.directmap.mc.hypercalls,
           mm_boot_stats.directmap.mc.entries,
           mm_boot_stats.directmap.mc.mmu_ops,
           mm_boot_stats.directmap.mc.tlb_flushes);
    printk("mm: %lu of %lu frames free\n", frame_free_count(),
           frame_total());
    p2m_print_stats();
}

void mm_init(start_info_t *si, const struct boot_options *opts)
{
    bool verbose = opts->verbose;
    unsigned long early_end;
    int rc;

    p2m_init(si);
    bootmap_init(si);
    frame_early_init(bootmap.used_end, si->nr_pages);
    reserve_special_pages(si);
    pt_roles_early_range(bootmap.pt_first, bootmap.pt_count);
    step_begin(&mm_boot_stats.tree);
    p2m_tree_init();
    step_end(&mm_boot_stats.tree);
    if ( (rc = p2m_e820_init(si, opts->remap_limited ? opts->remap_max
                                                     : ~0UL)) != 0 )
        panic("mm: cannot apply the memory map: %d", rc);
    frame_set_total(pfn_x(p2m_populated_end()));
    early_end = frame_early_fit();
    if ( verbose )
        p2m_e820_print();
    fixmap_init();

    if ( (rc = bootmap_protect_image()) != 0 )
        panic("mm: cannot set the image's permissions: %d", rc);
    /* Only now: the builder's mapping of the hole frames is gone. */
    if ( (rc = p2m_e820_release()) != 0 )
        panic("mm: cannot give back the frames of dom0's holes: %d", rc);

    step_begin(&mm_boot_stats.directmap);
    if ( (rc = directmap_init()) != 0 )
        panic("mm: cannot build the direct map: %d", rc);
    step_end(&mm_boot_stats.directmap);
    mm_boot_stats.directmap_pages = 1 + directmap.nr_l2 + directmap.nr_l1;

    if ( (rc = pt_roles_init()) != 0 ||
         (rc = frame_full_start(boot_va_to_pfn(_text), early_end)) != 0 )
        panic("mm: cannot allocate frame metadata: %d", rc);

    step_begin(&mm_boot_stats.revector);
    if ( (rc = p2m_revector()) != 0 )
        panic("mm: cannot build the linear p2m: %d", rc);
    step_end(&mm_boot_stats.revector);
    step_begin(&mm_boot_stats.frame_list);
    if ( (rc = p2m_frames_init(publish_linear_list(si, opts))) != 0 )
        panic("mm: cannot publish the p2m frame list: %d", rc);
    step_end(&mm_boot_stats.frame_list);

    if ( verbose )
        print_boot_summary();
}
