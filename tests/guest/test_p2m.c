/*
 * The p2m: boot cross-check, sizes, identity, shared pages, p2m_set, the
 * frame list and the auditor.  White-box: it looks at the shared pages.
 */
#include <pvmm/test.h>
#include <pvmm/p2m_boot.h>
#include <pvmm/frame.h>
#include <pvmm/directmap.h>
#include <pvmm/multicall.h>
#include <pvmm/mmu_lazy.h>
#include <pvmm/shared_info.h>
#include <pvmm/traps.h>
#include <pvmm/pt.h>
#include <pvmm/hypercall.h>
#include <pvmm/p2m_tree.h>
#include <pvmm/lib.h>
#include <pvmm/layout.h>
#include <pvmm/pmap.h>
#include <pvmm/bootmap.h>
#include "mm_helpers.h"

/*
 * Moves frame mfn from pfn `from` to pfn `to`: its kernel aliases, the
 * p2m both ways and the M2P (the auditor checks all of them).
 */
static int move_frame(pfn_t from, pfn_t to)
{
    mfn_t mfn = pfn_to_mfn(from);
    int rc = pt_set_aliases(from, ALIAS_NONE);

    rc = rc ? rc : mc_flush();
    rc = rc ? rc : p2m_set(from, INVALID_P2M_ENTRY);
    if ( !rc )
        rc = mc_mmu_update((mfn_x(mfn) << PAGE_SHIFT) | MMU_MACHPHYS_UPDATE,
                           pfn_x(to));
    rc = rc ? rc : mc_flush();
    rc = rc ? rc : p2m_set(to, mfn_x(mfn));
    rc = rc ? rc : pt_set_aliases(to, ALIAS_RW);
    return rc ? rc : mc_flush();
}

/* What nobody wrote reads: identity for dom0 (MMIO), missing for a domU. */
static unsigned long unwritten(unsigned long pfn)
{
    return xen_is_dom0() ? IDENTITY_FRAME(pfn) : INVALID_P2M_ENTRY;
}

TEST(p2m, tree_and_linear_equal_builders_list)
{
    const struct p2m_crosscheck *x = &p2m_crosscheck;

    ASSERT_EQ(x->checked, ROUNDUP(xen_start_info->nr_pages, P2M_PER_PAGE));
    if ( x->mismatches )
        FAIL("%lu mismatches, first at pfn %#lx: list %#lx, tree %#lx, "
             "linear %#lx", x->mismatches, x->first_pfn, x->list, x->tree,
             x->linear);
}

/*
 * Past nr_pages: INVALID, but for frames moved there out of holes; each
 * hole pfn's frame is there or was given back.
 */
TEST(p2m, pfns_past_nr_pages_read_invalid)
{
    unsigned long nr = xen_start_info->nr_pages, pfn, holes = 0, moved = 0;
    unsigned long e;

    for ( pfn = 0; pfn < nr; pfn++ )
        holes += p2m_entry_is_identity(p2m_get_entry(_pfn(pfn)));
    for ( pfn = nr; pfn < p2m_size; pfn++ )
    {
        e = p2m_get_entry(_pfn(pfn));
        if ( p2m_is_populated(_pfn(pfn)) )
            moved++;
        else if ( e != INVALID_P2M_ENTRY && p2m_e820_is_ram(_pfn(pfn)) )
            FAIL("pfn %#lx (RAM, past nr_pages): entry %#lx", pfn, e);
    }
    ASSERT_EQ(moved + p2m_e820_released(), holes);
    ASSERT_EQ(p2m_size % P2M_PER_PAGE, 0);
    ASSERT_GE(p2m_size, nr);
}

TEST(p2m, e820_holes_are_identity_and_ram_is_not)
{
    unsigned long pfn, identity = 0;

    for ( pfn = 0; pfn < p2m_size; pfn++ )
    {
        bool id = p2m_entry_is_identity(p2m_get_entry(_pfn(pfn)));
        bool ram = p2m_e820_is_ram(_pfn(pfn));

        identity += id;
        if ( id == ram && (xen_is_dom0() || id) )
            FAIL("pfn %#lx: identity %d, RAM %d", pfn, id, ram);
        if ( id && mfn_x(pfn_to_mfn(_pfn(pfn))) != pfn )
            FAIL("identity pfn %#lx translates to %#lx", pfn,
                 mfn_x(pfn_to_mfn(_pfn(pfn))));
    }
    if ( xen_is_dom0() )
        ASSERT_GT(identity, 0);         /* at least the 640K-1M hole */
    /*
     * Beyond the p2m every pfn reads what is unwritten: identity for dom0,
     * missing for a domU, whose foreign mfns are then no pfns of its own.
     */
    ASSERT_EQ(p2m_get_entry(_pfn(p2m_size + 3)), unwritten(p2m_size + 3));
    ASSERT_EQ(mfn_x(pfn_to_mfn(_pfn(p2m_size))),
              xen_is_dom0() ? p2m_size : mfn_x(INVALID_MFN));
}

TEST(p2m, write_to_shared_missing_page_faults)
{
    volatile unsigned long *alias =
        directmap_va(mfn_to_pfn(p2m_shared_pages()->missing));
    /* The linear array past p2m_size is backed by the missing page too. */
    volatile unsigned long *beyond = (unsigned long *)P2M_BASE +
                                     ROUNDUP(p2m_size + 1, P2M_PER_PAGE);
    struct exc_fault f;
    unsigned int i;

    ASSERT_TRUE(exc_probe_write(&alias[7], 0, &f));
    ASSERT_EQ(f.vector, VEC_PF);
    ASSERT_EQ(f.cr2, (uint64_t)&alias[7]);
    ASSERT_TRUE(exc_probe_write(beyond, 0, &f));
    ASSERT_EQ(f.cr2, (uint64_t)beyond);
    ASSERT_EQ(f.error_code & (PFEC_PRESENT | PFEC_WRITE),
              PFEC_PRESENT | PFEC_WRITE);
    for ( i = 0; i < P2M_PER_PAGE; i++ )
        ASSERT_EQ(alias[i], INVALID_P2M_ENTRY);
    ASSERT_EQ(*beyond, INVALID_P2M_ENTRY);
}

/*
 * What a pfn nobody wrote reads, from Xen's word on who we are: dom0's
 * map calls everything past the host's RAM MMIO, a domU's is missing.
 */
TEST(p2m, set_invalid_in_missing_chunk_allocates_nothing)
{
    unsigned long pfn = ROUNDUP(p2m_size, GIB_PFNS) + 2 * GIB_PFNS - 1;
    unsigned long free0, size0;
    struct p2m_stats s0, s1;

    if ( xen_is_dom0() )
        SKIP("dom0: past its size the p2m is identity (MMIO), not missing; "
             "p2m.dom0_growth_keeps_mmio_identity covers dom0");
    p2m_trim();
    size0 = p2m_size;
    free0 = frame_free_count();
    p2m_get_stats(&s0);
    /* Past the size a domU's pfn reads missing already: no growth. */
    ASSERT_EQ(p2m_set(_pfn(pfn), INVALID_P2M_ENTRY), 0);
    p2m_get_stats(&s1);
    ASSERT_EQ(p2m_size, size0);
    ASSERT_EQ(frame_free_count(), free0);
    ASSERT_EQ(s1.private_leaves, s0.private_leaves);
    ASSERT_EQ(s1.private_l1, s0.private_l1);
    ASSERT_EQ(p2m_get_entry(_pfn(pfn)), INVALID_P2M_ENTRY);
    ASSERT_EQ(xen_shared_info->arch.max_pfn, p2m_size);
}

TEST(p2m, set_in_missing_gig_allocates_private_l1)
{
    unsigned long gig = ROUNDUP(p2m_size, GIB_PFNS) + GIB_PFNS;
    unsigned long t = gig + 5, gen0;
    pfn_t a = frame_alloc();
    mfn_t m = pfn_to_mfn(a);
    struct p2m_stats s0, s1;

    ASSERT_TRUE(!pfn_eq(a, INVALID_PFN));
    /*
     * Make the whole GiB part of the p2m, as nobody wrote it, by writing
     * into the next one (as dom0 that gives the next GiB a leaf).
     */
    ASSERT_EQ(p2m_set(_pfn(gig + GIB_PFNS), INVALID_P2M_ENTRY), 0);
    ASSERT_EQ(mfn_x(p2m_chunk_leaf(t / P2M_PER_PAGE)),
              mfn_x(xen_is_dom0() ? p2m_shared_pages()->identity
                                  : p2m_shared_pages()->missing));
    p2m_get_stats(&s0);
    gen0 = xen_shared_info->arch.p2m_generation;

    ASSERT_EQ(move_frame(a, _pfn(t)), 0);

    p2m_get_stats(&s1);
    ASSERT_EQ(xen_shared_info->arch.p2m_generation, gen0 + 2);
    ASSERT_EQ(s1.private_l1, s0.private_l1 + 1);
    ASSERT_EQ(s1.private_leaves, s0.private_leaves + 1);
    ASSERT_EQ(mfn_x(pfn_to_mfn(_pfn(t))), mfn_x(m));
    ASSERT_EQ(pfn_x(mfn_to_pfn(m)), t);
    ASSERT_EQ(p2m_get_entry(_pfn(t - 1)), unwritten(t - 1));
    ASSERT_EQ(p2m_get_entry(_pfn(t + 1)), unwritten(t + 1));
    ASSERT_EQ(mfn_x(p2m_frames_leaf(t / P2M_PER_PAGE)),
              mfn_x(p2m_chunk_leaf(t / P2M_PER_PAGE)));
    ASSERT_NE(mfn_x(p2m_chunk_leaf(t / P2M_PER_PAGE)),
              mfn_x(p2m_shared_pages()->missing));
    ASSERT_EQ(p2m_audit(), 0);

    /* And back: the structure stays consistent. */
    ASSERT_EQ(move_frame(_pfn(t), a), 0);
    ASSERT_EQ(p2m_get_entry(_pfn(t)), INVALID_P2M_ENTRY);
    ASSERT_EQ(p2m_set(_pfn(t), unwritten(t)), 0);
    ASSERT_EQ(p2m_set(_pfn(gig + GIB_PFNS), unwritten(gig + GIB_PFNS)), 0);
    ASSERT_EQ(mfn_x(pfn_to_mfn(a)), mfn_x(m));
    ASSERT_EQ(p2m_audit(), 0);
    frame_free(a);
}

/* The kind that is not what is unwritten: a shared page of its own. */
static unsigned long other_kind(unsigned long pfn)
{
    return xen_is_dom0() ? INVALID_P2M_ENTRY : IDENTITY_FRAME(pfn);
}

static mfn_t other_kind_leaf(void)
{
    return xen_is_dom0() ? p2m_shared_pages()->missing
                         : p2m_shared_pages()->identity;
}

/* Sets pfns [first, first + n) to what f says; the first error or 0. */
static int set_run(unsigned long first, unsigned long n,
                   unsigned long (*f)(unsigned long pfn))
{
    unsigned long i;
    int rc = 0;

    for ( i = first; !rc && i < first + n; i++ )
        rc = p2m_set(_pfn(i), f(i));
    return rc;
}

/*
 * A whole chunk of the other kind in a GiB that is otherwise unwritten:
 * the chunk's leaf collapses onto the shared page of its kind, but the
 * GiB's L1 now holds two kinds and must stay private.  Every pfn around
 * reads its own kind, and setting it all back leaves nothing behind.
 */
TEST(p2m, gig_of_two_shared_kinds_keeps_its_l1)
{
    unsigned long gig = ROUNDUP(p2m_size, GIB_PFNS) + GIB_PFNS;
    unsigned long c = gig / P2M_PER_PAGE + 3, first = c * P2M_PER_PAGE;
    unsigned long i, bad = 0, free0;
    struct p2m_stats s0, s1;

    p2m_trim();
    free0 = free_or_kept();
    p2m_get_stats(&s0);
    ASSERT_EQ(set_run(first, P2M_PER_PAGE, other_kind), 0);
    p2m_get_stats(&s1);
    ASSERT_EQ(mfn_x(p2m_chunk_leaf(c)), mfn_x(other_kind_leaf()));
    ASSERT_EQ(s1.private_leaves, s0.private_leaves);
    ASSERT_EQ(s1.private_l1, s0.private_l1 + 1);
    for ( i = first - P2M_PER_PAGE; i < first + 2 * P2M_PER_PAGE; i++ )
        bad += p2m_get_entry(_pfn(i)) !=
               (i - first < P2M_PER_PAGE ? other_kind(i) : unwritten(i));
    ASSERT_EQ(bad, 0);
    ASSERT_EQ(p2m_audit(), 0);

    ASSERT_EQ(set_run(first, P2M_PER_PAGE, unwritten), 0);
    p2m_trim();
    p2m_get_stats(&s1);
    ASSERT_EQ(s1.private_l1, s0.private_l1);
    ASSERT_EQ(s1.size, s0.size);
    ASSERT_EQ(free_or_kept(), free0);
    ASSERT_EQ(p2m_audit(), 0);
}

/*
 * p2m_set inside a caller's lazy MMU section: its own structure changes
 * (a private L1 and leaf for a far chunk) must be issued before it
 * stores through them, whatever the caller still holds queued; the store
 * is readable before the caller's section ends.
 */
TEST(p2m, set_inside_a_callers_lazy_section_takes_effect)
{
    unsigned long t = ROUNDUP(p2m_size, GIB_PFNS) + GIB_PFNS + 7, got;
    int rc;

    p2m_trim();
    mmu_lazy_begin();
    rc = p2m_set(_pfn(t), other_kind(t));
    got = p2m_get_entry(_pfn(t));
    ASSERT_EQ(mmu_lazy_end(), 0);
    ASSERT_EQ(rc, 0);
    ASSERT_EQ(got, other_kind(t));
    ASSERT_EQ(p2m_get_entry(_pfn(t + 1)), unwritten(t + 1));
    ASSERT_NE(mfn_x(p2m_chunk_leaf(t / P2M_PER_PAGE)),
              mfn_x(other_kind_leaf()));
    ASSERT_EQ(p2m_audit(), 0);
    ASSERT_EQ(p2m_set(_pfn(t), unwritten(t)), 0);
    p2m_trim();
    ASSERT_EQ(p2m_audit(), 0);
}

/*
 * Whatever is written past the size stays written when a later write
 * grows the p2m over it: an identity pfn, then a missing one a GiB
 * further out, both read as written (a domU once lost the first: past the
 * size it read identity without being stored, and growth brought the
 * missing structure over it).
 */
TEST(p2m, write_past_the_size_survives_growth)
{
    unsigned long far1 = ROUNDUP(p2m_size, GIB_PFNS) + GIB_PFNS + 11;
    unsigned long far2 = far1 + GIB_PFNS, size0;

    p2m_trim();
    size0 = p2m_size;
    ASSERT_EQ(p2m_set(_pfn(far1), IDENTITY_FRAME(far1)), 0);
    ASSERT_EQ(p2m_set(_pfn(far2), INVALID_P2M_ENTRY), 0);
    ASSERT_GT(p2m_size, far1);
    ASSERT_EQ(p2m_get_entry(_pfn(far1)), IDENTITY_FRAME(far1));
    ASSERT_EQ(p2m_get_entry(_pfn(far2)), INVALID_P2M_ENTRY);
    ASSERT_EQ(mfn_x(pfn_to_mfn(_pfn(far1))), far1);
    ASSERT_EQ(p2m_audit(), 0);

    ASSERT_EQ(p2m_set(_pfn(far1), unwritten(far1)), 0);
    ASSERT_EQ(p2m_set(_pfn(far2), unwritten(far2)), 0);
    p2m_trim();
    ASSERT_EQ(p2m_size, size0);
    ASSERT_EQ(p2m_audit(), 0);
}

static unsigned long no_entry(unsigned long pfn)
{
    (void)pfn;
    return INVALID_P2M_ENTRY;
}

/*
 * p2m_build refuses what it cannot build, and a second build, with a
 * message and nothing changed (it would replace the live structure).
 */
TEST(p2m, build_refuses_bad_requests_and_a_second_build)
{
    struct p2m_build b = { .size = P2M_PER_PAGE, .boot_entry = no_entry };
    unsigned long size0 = p2m_size, free0 = frame_free_count();

    b.size = 0;
    ASSERT_EQ(p2m_build(&b), -XEN_EINVAL);
    b.size = P2M_MAX_PFNS + 1;
    ASSERT_EQ(p2m_build(&b), -XEN_EINVAL);
    b.size = P2M_PER_PAGE;
    b.boot_entry = NULL;
    ASSERT_EQ(p2m_build(&b), -XEN_EINVAL);
    b.boot_entry = no_entry;
    ASSERT_EQ(p2m_build(&b), -XEN_EEXIST);
    ASSERT_EQ(p2m_size, size0);
    ASSERT_EQ(frame_free_count(), free0);
    ASSERT_EQ(p2m_audit(), 0);
}

TEST(p2m, set_rejects_impossible_requests)
{
    ASSERT_EQ(p2m_set(_pfn(P2M_MAX_PFNS), 1), -XEN_EINVAL);
    ASSERT_EQ(p2m_set(_pfn(~0UL), INVALID_P2M_ENTRY), -XEN_EINVAL);
    ASSERT_EQ(p2m_set(_pfn(5), IDENTITY_FRAME(6)), -XEN_EINVAL);
}

TEST(p2m, audit_reports_corrupted_entry_by_pfn)
{
    unsigned long *linear = (unsigned long *)P2M_BASE;
    pfn_t a = frame_alloc();
    unsigned long good;
    int rc;

    ASSERT_TRUE(!pfn_eq(a, INVALID_PFN));
    ASSERT_EQ(p2m_audit(), 0);
    good = linear[pfn_x(a)];
    linear[pfn_x(a)] = good ^ 1;        /* an mfn that does not map back */
    rc = p2m_audit();
    linear[pfn_x(a)] = good;
    frame_free(a);

    ASSERT_EQ(rc, -1);
    /* Invariant 1 by name: the direct-map check would also see this pfn. */
    ASSERT_STREQ(p2m_audit_last()->what, "m2p of the mfn of pfn");
    ASSERT_EQ(p2m_audit_last()->where, pfn_x(a));
    ASSERT_EQ(p2m_audit_last()->expected, pfn_x(a));
    ASSERT_EQ(p2m_audit_last()->found,
              machine_to_phys_mapping[good ^ 1]);
    ASSERT_EQ(p2m_audit(), 0);
}

TEST(p2m, published_for_the_tools)
{
    const struct arch_shared_info *a = &xen_shared_info->arch;

    ASSERT_EQ(a->max_pfn, p2m_size);
    ASSERT_EQ(a->p2m_vaddr, P2M_BASE);
    /* Published only as the command line or the tools' flag says. */
    ASSERT_TRUE(a->p2m_cr3 == 0 ||
                a->p2m_cr3 == xen_pfn_to_cr3(mfn_x(pt_kernel_root())));
    if ( boot_opts.p2m_list == P2M_LIST_AUTO )
        ASSERT_EQ(!!a->p2m_cr3,
                  !!(xen_start_info->flags & SIF_VIRT_P2M_4TOOLS));
    else
        ASSERT_EQ(!!a->p2m_cr3, boot_opts.p2m_list == P2M_LIST_LINEAR);
    ASSERT_EQ(a->p2m_generation & 1, 0);
    if ( p2m_size <= P2M_FRAME_LIST_PFNS )
    {
        const unsigned long *top = directmap_va(mfn_to_pfn(
            _mfn(a->pfn_to_mfn_frame_list_list)));
        const unsigned long *mid = directmap_va(mfn_to_pfn(_mfn(top[0])));

        /* Chunk 0 always holds the image: a private leaf. */
        ASSERT_EQ(mid[0], mfn_x(p2m_chunk_leaf(0)));
        ASSERT_NE(mid[0], mfn_x(p2m_shared_pages()->missing));
    }
}

/*
 * Xen maps the M2P only over machine memory: the entry of an mfn in a
 * machine hole is an unmapped page.  mfn_to_pfn must not fault there; it
 * answers INVALID, or, as dom0, the pfn when that pfn is identity (the
 * PCI hole is).  The hole is found by probing the M2P itself.
 */
TEST(p2m, mfn_to_pfn_in_a_machine_hole_does_not_fault)
{
    struct xen_machphys_mapping m2p;
    struct exc_fault f;
    unsigned long mfn;
    uint64_t v;

    ASSERT_EQ(HYPERVISOR_memory_op(XENMEM_machphys_mapping, &m2p), 0);
    for ( mfn = 0; mfn <= m2p.max_mfn; mfn += PAGE_SIZE / sizeof(v) )
        if ( exc_probe_read(&machine_to_phys_mapping[mfn], &v, &f) )
            break;
    if ( mfn > m2p.max_mfn )
        SKIP("the M2P is mapped up to max_mfn %#lx: no machine hole",
             m2p.max_mfn);
    /* No fault; and no pfn, unless dom0 has it as an identity pfn. */
    ASSERT_EQ(pfn_x(mfn_to_pfn(_mfn(mfn))),
              p2m_get_entry(_pfn(mfn)) == IDENTITY_FRAME(mfn)
              ? mfn : pfn_x(INVALID_PFN));
    ASSERT_EQ(pfn_x(mfn_to_pfn(_mfn(mfn + 17))),
              p2m_get_entry(_pfn(mfn + 17)) == IDENTITY_FRAME(mfn + 17)
              ? mfn + 17 : pfn_x(INVALID_PFN));
}

/* As in Linux: the "mfn" of an identity pfn is that pfn, both ways. */
TEST(p2m, mfn_to_pfn_of_an_identity_frame_is_its_pfn)
{
    unsigned long pfn;

    for ( pfn = 0; pfn < p2m_size; pfn++ )
        if ( p2m_entry_is_identity(p2m_get_entry(_pfn(pfn))) )
            break;
    if ( pfn == p2m_size )
        SKIP("no identity pfn below p2m_size %#lx (a domU)", p2m_size);
    ASSERT_EQ(mfn_x(pfn_to_mfn(_pfn(pfn))), pfn);
    ASSERT_EQ(pfn_x(mfn_to_pfn(_mfn(pfn))), pfn);
}

/* ---- the boot tree, on a list of our own ---------------------------- */

/*
 * 300 pfns: a tail leaf of 300.  What follows the list in its page is
 * poisoned, so a tail that is not padded reads the poison, and a lookup
 * far past the list must read the shared missing leaf.
 */
TEST(p2m, tree_tail_is_padded_and_holes_read_missing)
{
    unsigned long free0 = frame_free_count(), i, bad = 0;
    pfn_t page = frame_alloc();
    struct p2m_tree t;
    unsigned long *list;
    int rc;

    ASSERT_TRUE(!pfn_eq(page, INVALID_PFN));
    list = directmap_va(page);
    for ( i = 0; i < P2M_PER_PAGE; i++ )
        list[i] = i < 300 ? 0x1000 + i * 3 : 0x5a5a5a5a5a5a5a5aUL;
    rc = p2m_tree_build(&t, list, 300, &p2m_tree_runtime_pages);
    if ( !rc )
    {
        for ( i = 0; i < P2M_PER_PAGE; i++ )
            bad += p2m_tree_lookup(&t, i) !=
                   (i < 300 ? 0x1000 + i * 3 : INVALID_P2M_ENTRY);
        bad += p2m_tree_lookup(&t, 5000) != INVALID_P2M_ENTRY;
        bad += p2m_tree_lookup(&t, (1UL << 18) + 7) != INVALID_P2M_ENTRY;
        p2m_tree_destroy(&t, &p2m_tree_runtime_pages);
    }
    frame_free(page);
    ASSERT_EQ(rc, 0);
    ASSERT_EQ(bad, 0);
    ASSERT_EQ(frame_free_count(), free0);
}

/*
 * mfn_to_pfn believes the M2P only when the p2m agrees: an M2P entry
 * pointed elsewhere on purpose (MMU_MACHPHYS_UPDATE) must give INVALID.
 */
TEST(p2m, mfn_to_pfn_needs_the_p2m_to_agree_with_the_m2p)
{
    pfn_t pfn = frame_alloc();
    mfn_t mfn;
    pfn_t seen;
    int rc;

    ASSERT_TRUE(!pfn_eq(pfn, INVALID_PFN));
    mfn = pfn_to_mfn(pfn);
    rc = mc_mmu_update((mfn_x(mfn) << PAGE_SHIFT) | MMU_MACHPHYS_UPDATE,
                       pfn_x(pfn) + 1);
    rc = rc ? rc : mc_flush();
    seen = mfn_to_pfn(mfn);
    if ( !rc )      /* put Xen's M2P back before anything else */
        rc = mc_mmu_update((mfn_x(mfn) << PAGE_SHIFT) | MMU_MACHPHYS_UPDATE,
                           pfn_x(pfn)) ?: mc_flush();
    frame_free(pfn);
    ASSERT_EQ(rc, 0);
    ASSERT_EQ(pfn_x(seen), pfn_x(INVALID_PFN));
    ASSERT_EQ(pfn_x(mfn_to_pfn(mfn)), pfn_x(pfn));
}

/* The auditor's last check: the populated count kept by p2m_set. */
TEST(p2m, audit_reports_a_wrong_populated_count)
{
    unsigned long kept = p2m_nr_populated;
    int rc;

    p2m_nr_populated = kept + 1;
    rc = p2m_audit();
    p2m_nr_populated = kept;
    ASSERT_EQ(rc, -1);
    ASSERT_STREQ(p2m_audit_last()->what, "populated count, kept");
    ASSERT_EQ(p2m_audit_last()->found, kept);
    ASSERT_EQ(p2m_audit_last()->expected, kept + 1);
    ASSERT_EQ(p2m_audit(), 0);
}

/* ---- the auditor names each invariant it checks ------------------- */

/* Runs the auditor, which must fail on `what` at `where`. */
static void expect_audit(const char *what, unsigned long where)
{
    ASSERT_EQ(p2m_audit(), -1);
    ASSERT_STREQ(p2m_audit_last()->what, what);
    ASSERT_EQ(p2m_audit_last()->where, where);
}

/*
 * Invariant 9: a frame with a read-only role (here a fresh, unlinked
 * table, which Xen lets us map writable: it is not in use as one) made
 * writable through one alias at a time; the auditor names that alias.
 */
static void writable_alias_is_reported(pfn_t pfn, unsigned long va,
                                       const char *what)
{
    unsigned int index;
    pte_t good;
    mfn_t l1;

    ASSERT_EQ(pt_walk(pt_kernel_root(), va, 1, &l1, &index), 0);
    good = pt_get_entry(l1, index);
    ASSERT_EQ(good & (_PAGE_PRESENT | _PAGE_RW), _PAGE_PRESENT);
    ASSERT_EQ(pt_set_entry(l1, index, good | _PAGE_RW), 0);
    ASSERT_EQ(mc_flush(), 0);
    expect_audit(what, pfn_x(pfn));
    ASSERT_EQ(pt_set_entry(l1, index, good), 0);
    ASSERT_EQ(mc_flush(), 0);
    ASSERT_OK_HELPER();
    ASSERT_EQ(p2m_audit(), 0);
}

/* pfn as a table of a pinned tree: read-only role, every alias RO. */
static void make_ro_table(pfn_t pfn)
{
    on_pt_alloc(pfn, 1, true);
    ASSERT_EQ(mc_flush(), 0);
    ASSERT_TRUE(pt_role(pfn) & PT_ROLE_RO);
}

static void drop_ro_table(pfn_t pfn)
{
    on_pt_release(pfn, 1);
    ASSERT_EQ(mc_flush(), 0);
    frame_free(pfn);
}

TEST(p2m, audit_reports_a_writable_direct_map_alias)
{
    pfn_t pfn = frame_alloc();

    ASSERT_TRUE(!pfn_eq(pfn, INVALID_PFN));
    make_ro_table(pfn);
    ASSERT_OK_HELPER();
    writable_alias_is_reported(pfn, (unsigned long)directmap_va(pfn),
                               "writable direct-map alias of read-only pfn");
    ASSERT_OK_HELPER();
    drop_ro_table(pfn);
}

/* The same in the builder's area, with a free frame of it. */
TEST(p2m, audit_reports_a_writable_builder_alias)
{
    unsigned long p;
    pfn_t pfn = INVALID_PFN;

    for ( p = pfn_x(bootmap.used_end); p < pfn_x(bootmap.mapped_end); p++ )
        if ( frame_is_free(_pfn(p)) && frame_claim(_pfn(p)) )
        {
            pfn = _pfn(p);
            break;
        }
    if ( pfn_eq(pfn, INVALID_PFN) )
        SKIP("no free frame left in the builder's area");
    make_ro_table(pfn);
    ASSERT_OK_HELPER();
    writable_alias_is_reported(pfn, (unsigned long)boot_pfn_to_va(pfn),
                               "writable builder alias of read-only pfn");
    ASSERT_OK_HELPER();
    drop_ro_table(pfn);
}

/* A PMAP slot mapping a read-only frame writable. */
TEST(p2m, audit_reports_a_writable_pmap_alias)
{
    pfn_t pfn = frame_alloc();
    void *va;

    ASSERT_TRUE(!pfn_eq(pfn, INVALID_PFN));
    make_ro_table(pfn);
    ASSERT_OK_HELPER();
    va = pmap_map(pfn_to_mfn(pfn), true);
    expect_audit("writable PMAP alias of read-only pfn", pfn_x(pfn));
    pmap_unmap(va);
    ASSERT_EQ(p2m_audit(), 0);
    drop_ro_table(pfn);
}

TEST(p2m, audit_reports_an_l3_entry_not_present)
{
    pte_t good = pt_get_entry(p2m_shared_pages()->l3, 511);

    if ( !mfn_eq(pte_mfn(good), p2m_shared_pages()->missing_pmd) &&
         !mfn_eq(pte_mfn(good), p2m_shared_pages()->identity_pmd) )
        SKIP("the last 512 GiB of the p2m has a private L2");
    ASSERT_EQ(pt_set_entry(p2m_shared_pages()->l3, 511, 0), 0);
    expect_audit("L3 entry of the p2m, not present", 511);
    ASSERT_EQ(pt_set_entry(p2m_shared_pages()->l3, 511, good), 0);
    ASSERT_OK_HELPER();
    ASSERT_EQ(p2m_audit(), 0);
}

TEST(p2m, audit_reports_a_shared_table_entry_that_points_elsewhere)
{
    pte_t good = pt_get_entry(p2m_shared_pages()->missing_pmd, 7);
    pte_t bad = pte_from_mfn(p2m_shared_pages()->identity_pte, PT_TABLE_FLAGS);
    struct p2m_audit_report last;

    ASSERT_EQ(pt_set_entry(p2m_shared_pages()->missing_pmd, 7, bad), 0);
    mc_request_tlb_flush();
    ASSERT_EQ(p2m_audit(), -1);
    last = *p2m_audit_last();
    /* Put it back before anything can fail: later tests walk through it. */
    ASSERT_EQ(pt_set_entry(p2m_shared_pages()->missing_pmd, 7, good), 0);
    mc_request_tlb_flush();
    ASSERT_EQ(mc_flush(), 0);
    ASSERT_STREQ(last.what, "missing_pmd entry");
    ASSERT_EQ(last.where, 7);
    ASSERT_EQ(last.found, mfn_x(p2m_shared_pages()->identity_pte));
    ASSERT_EQ(last.expected, mfn_x(p2m_shared_pages()->missing_pte));
    ASSERT_OK_HELPER();
    ASSERT_EQ(p2m_audit(), 0);
}

TEST(p2m, audit_reports_what_the_tools_would_read_wrong)
{
    struct arch_shared_info *a = &xen_shared_info->arch;
    unsigned long list = a->pfn_to_mfn_frame_list_list;

    a->p2m_generation++;
    expect_audit("p2m_generation, odd", 0);
    a->p2m_generation++;
    ASSERT_OK_HELPER();
    a->pfn_to_mfn_frame_list_list = list ^ 1;
    expect_audit("pfn_to_mfn_frame_list_list", p2m_size);
    a->pfn_to_mfn_frame_list_list = list;
    ASSERT_OK_HELPER();
    ASSERT_EQ(p2m_audit(), 0);
}

/* A populated pfn whose direct-map alias is gone, and back. */
TEST(p2m, audit_reports_a_direct_map_that_disagrees_with_the_p2m)
{
    pfn_t pfn = frame_alloc();

    ASSERT_TRUE(!pfn_eq(pfn, INVALID_PFN));
    ASSERT_EQ(pt_set_aliases(pfn, ALIAS_NONE), 0);
    ASSERT_EQ(mc_flush(), 0);
    expect_audit("direct map of pfn", pfn_x(pfn));
    ASSERT_EQ(p2m_audit_last()->found, ~0UL);
    ASSERT_EQ(p2m_audit_last()->expected, mfn_x(pfn_to_mfn(pfn)));
    ASSERT_EQ(pt_set_aliases(pfn, ALIAS_RW), 0);
    ASSERT_EQ(mc_flush(), 0);
    frame_free(pfn);
    ASSERT_OK_HELPER();
    ASSERT_EQ(p2m_audit(), 0);
}

TEST(p2m, audit_reports_a_leaf_that_the_allocator_thinks_free)
{
    pfn_t leaf = mfn_to_pfn(p2m_chunk_leaf(0));

    ASSERT_TRUE(!frame_is_free(leaf));
    frame_free(leaf);
    expect_audit("private leaf free in the allocator, chunk", 0);
    ASSERT_TRUE(frame_claim(leaf));
    ASSERT_OK_HELPER();
    ASSERT_EQ(p2m_audit(), 0);
}

/*
 * A frame Xen gave us that the p2m never recorded: the p2m agrees with
 * itself and with the M2P of what it holds, but not with Xen's count.
 */
TEST(p2m, audit_reports_a_populated_count_xen_disagrees_with)
{
    xen_pfn_t frame = p2m_size + 5;
    struct xen_memory_reservation r = {
        .nr_extents = 1, .extent_order = 0, .domid = DOMID_SELF,
    };
    long rc;

    set_xen_guest_handle(r.extent_start, &frame);
    rc = HYPERVISOR_memory_op(XENMEM_populate_physmap, &r);
    if ( rc != 1 )
        SKIP("Xen has no frame to give (%ld): at the reservation's end", rc);
    expect_audit("populated count, Xen's reservation", 0);
    rc = HYPERVISOR_memory_op(XENMEM_decrease_reservation, &r);
    ASSERT_EQ(rc, 1);
    ASSERT_OK_HELPER();
    ASSERT_EQ(p2m_audit(), 0);
}

/* ---- identity, against the memory map Xen gives dom0 -------------- */

struct e820 {
    uint64_t addr, size;
    uint32_t type;
} __attribute__((packed));

static struct e820 host_map[128];

/* The host's memory map, straight from Xen; 0 entries as a domU. */
static unsigned int read_host_map(void)
{
    struct xen_memory_map m = { .nr_entries = ARRAY_SIZE(host_map) };

    if ( !(xen_start_info->flags & SIF_INITDOMAIN) )
        return 0;
    set_xen_guest_handle(m.buffer, host_map);
    return HYPERVISOR_memory_op(XENMEM_machine_memory_map, &m) ? 0
                                                               : m.nr_entries;
}

static bool host_ram(unsigned long pfn, unsigned int n)
{
    unsigned int i;

    for ( i = 0; i < n; i++ )
        if ( host_map[i].type == 1 && pfn << PAGE_SHIFT >= host_map[i].addr &&
             (pfn + 1) << PAGE_SHIFT <= host_map[i].addr + host_map[i].size )
            return true;
    return false;
}

/*
 * As dom0, every pfn of a hole in the host's map reads identity, below
 * the end of its RAM and above it, up to the p2m's size however far the
 * tests before grew it: sampled at every chunk's first and last pfn, and
 * at every pfn of the first MiB (the legacy hole).  Pfns populated now
 * are skipped: a test may have put a frame into MMIO space on purpose.
 */
TEST(p2m, dom0_holes_in_the_host_map_read_identity)
{
    unsigned int n = read_host_map(), i;
    unsigned long pfn, checked = 0, ram_end = 0;

    if ( !n )
        SKIP("a domU: no host memory map, no identity pfns");
    for ( i = 0; i < n; i++ )
        if ( host_map[i].type == 1 )
            ram_end = MAX(ram_end, (host_map[i].addr + host_map[i].size) >>
                                   PAGE_SHIFT);
    ASSERT_GT(ram_end, 0);
    for ( pfn = 0; pfn < p2m_size;
          pfn += (pfn < 0x100 || pfn % P2M_PER_PAGE) ? 1 : P2M_PER_PAGE - 1 )
    {
        if ( host_ram(pfn, n) || p2m_is_populated(_pfn(pfn)) )
            continue;
        checked++;
        if ( p2m_get_entry(_pfn(pfn)) != IDENTITY_FRAME(pfn) )
            FAIL("pfn %#lx, in a hole of the host map, reads %#lx", pfn,
                 p2m_get_entry(_pfn(pfn)));
    }
    ASSERT_GT(checked, 0);
}

/* Is chunk c, all 512 pfns, in holes of the host map? */
static bool host_hole_chunk(unsigned long c, unsigned int n)
{
    unsigned long first = c * P2M_PER_PAGE, last = first + P2M_PER_PAGE - 1;
    unsigned int i;

    if ( host_ram(first, n) || host_ram(last, n) )
        return false;
    for ( i = 0; i < n; i++ )       /* no RAM starting inside it either */
        if ( host_map[i].type == 1 &&
             host_map[i].addr >> PAGE_SHIFT > first &&
             host_map[i].addr >> PAGE_SHIFT <= last )
            return false;
    return true;
}

/*
 * The first chunk below the end of RAM that the host map says is all
 * hole; it must cost no page: the p2m maps the shared p2m_identity there.
 */
static unsigned long shared_identity_chunk(void)
{
    unsigned int n = read_host_map();
    unsigned long c;

    for ( c = 0; n && c < p2m_e820_ram_end() / P2M_PER_PAGE; c++ )
        if ( host_hole_chunk(c, n) )
            return c;
    return ~0UL;
}

/*
 * Setting identity where the shared page says identity costs nothing;
 * punching one missing pfn into such a chunk gives it a private leaf that
 * keeps every other pfn identity.
 */
TEST(p2m, identity_chunk_stays_identity_around_a_hole)
{
    unsigned long c = shared_identity_chunk(), pfn, i, bad = 0;
    unsigned long free0 = free_or_kept();
    struct p2m_stats s0, s1;

    if ( c == ~0UL )
        SKIP("no chunk of the host map below RAM's end is all hole");
    ASSERT_EQ(mfn_x(p2m_chunk_leaf(c)), mfn_x(p2m_shared_pages()->identity));
    pfn = c * P2M_PER_PAGE + 100;
    p2m_get_stats(&s0);
    ASSERT_EQ(p2m_set(_pfn(pfn), IDENTITY_FRAME(pfn)), 0);
    p2m_get_stats(&s1);
    ASSERT_EQ(s1.private_leaves, s0.private_leaves);
    ASSERT_EQ(free_or_kept(), free0);

    ASSERT_EQ(p2m_set(_pfn(pfn), INVALID_P2M_ENTRY), 0);
    ASSERT_EQ(p2m_get_entry(_pfn(pfn)), INVALID_P2M_ENTRY);
    for ( i = c * P2M_PER_PAGE; i < (c + 1) * P2M_PER_PAGE; i++ )
        bad += i != pfn && p2m_get_entry(_pfn(i)) != IDENTITY_FRAME(i);
    ASSERT_EQ(p2m_set(_pfn(pfn), IDENTITY_FRAME(pfn)), 0);
    ASSERT_EQ(bad, 0);
    ASSERT_EQ(p2m_get_entry(_pfn(pfn)), IDENTITY_FRAME(pfn));
    /* All identity again: back on the shared page, the leaf freed. */
    ASSERT_EQ(mfn_x(p2m_chunk_leaf(c)), mfn_x(p2m_shared_pages()->identity));
    ASSERT_EQ(free_or_kept(), free0);
}

/* The host's x86 interrupt controllers: MMIO far above a small dom0. */
#define IOAPIC_PFN  0xfec00UL
#define LAPIC_PFN   0xfee00UL

/*
 * Growing dom0's p2m far out (one pfn set missing at ~5 GiB past the
 * LAPIC) changes how no other pfn reads: the LAPIC and IOAPIC, the
 * neighbours and every sampled chunk between stay identity, as the host
 * map says; and setting the pfn back shrinks it all again.
 */
TEST(p2m, dom0_growth_keeps_mmio_identity)
{
    unsigned int n = read_host_map();
    unsigned long far, size0, pfn, bad = 0, free0;
    struct p2m_stats s0, s1;

    if ( !n )
        SKIP("a domU: no host memory map, no MMIO");
    ASSERT_TRUE(!host_ram(IOAPIC_PFN, n) && !host_ram(LAPIC_PFN, n));
    p2m_trim();
    size0 = p2m_size;
    free0 = free_or_kept();
    p2m_get_stats(&s0);
    far = ROUNDUP(MAX(p2m_size, LAPIC_PFN + 1), GIB_PFNS) + 4 * GIB_PFNS + 3;
    ASSERT_EQ(p2m_get_entry(_pfn(LAPIC_PFN)), IDENTITY_FRAME(LAPIC_PFN));

    ASSERT_EQ(p2m_set(_pfn(far), INVALID_P2M_ENTRY), 0);
    ASSERT_GT(p2m_size, far);
    ASSERT_EQ(p2m_get_entry(_pfn(far)), INVALID_P2M_ENTRY);
    ASSERT_EQ(p2m_get_entry(_pfn(far - 1)), IDENTITY_FRAME(far - 1));
    ASSERT_EQ(p2m_get_entry(_pfn(far + 1)), IDENTITY_FRAME(far + 1));
    ASSERT_EQ(p2m_get_entry(_pfn(IOAPIC_PFN)), IDENTITY_FRAME(IOAPIC_PFN));
    ASSERT_EQ(p2m_get_entry(_pfn(LAPIC_PFN)), IDENTITY_FRAME(LAPIC_PFN));
    ASSERT_EQ(mfn_x(pfn_to_mfn(_pfn(LAPIC_PFN))), LAPIC_PFN);
    for ( pfn = size0; pfn < p2m_size; pfn += P2M_PER_PAGE )
        bad += pfn != far && !host_ram(pfn, n) &&
               p2m_get_entry(_pfn(pfn)) != IDENTITY_FRAME(pfn);
    ASSERT_EQ(bad, 0);
    ASSERT_EQ(p2m_audit(), 0);

    ASSERT_EQ(p2m_set(_pfn(far), IDENTITY_FRAME(far)), 0);
    p2m_trim();
    p2m_get_stats(&s1);
    ASSERT_EQ(p2m_size, size0);
    ASSERT_EQ(s1.private_leaves, s0.private_leaves);
    ASSERT_EQ(s1.private_l1, s0.private_l1);
    ASSERT_EQ(s1.private_l2, s0.private_l2);
    ASSERT_EQ(free_or_kept(), free0);
    ASSERT_EQ(p2m_audit(), 0);
}
