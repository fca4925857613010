/*
 * mm bring-up: the direct map, the image's permissions, PMAP, the frame
 * allocator.
 */
#include <pvmm/test.h>
#include <pvmm/directmap.h>
#include <pvmm/bootmap.h>
#include <pvmm/frame.h>
#include <pvmm/p2m_boot.h>
#include <pvmm/pmap.h>
#include <pvmm/pt.h>
#include <pvmm/mmu_lazy.h>
#include <pvmm/traps.h>
#include <pvmm/mm.h>
#include <pvmm/lib.h>
#include <pvmm/multicall.h>

static pte_t kernel_pte(const void *va)
{
    unsigned int index;
    mfn_t l1;

    if ( pt_walk(pt_kernel_root(), (unsigned long)va, 1, &l1, &index) )
        return 0;
    return pt_get_entry(l1, index);
}

/*
 * Every pfn: its direct-map PTE names the mfn the p2m gives, and Xen's
 * M2P, which the p2m did not write, names the pfn back for that mfn.  A
 * pfn without a frame is not mapped.
 */
TEST(directmap, every_pfn_maps_the_frame_xen_says)
{
    unsigned long pfn, nr = frame_total();

    ASSERT_EQ(directmap.nr_pfns, nr);
    for ( pfn = 0; pfn < nr; pfn++ )
    {
        const void *dm = directmap_va(_pfn(pfn));
        mfn_t mfn = pfn_to_mfn(_pfn(pfn));
        pte_t pte = kernel_pte(dm);

        if ( !p2m_is_populated(_pfn(pfn)) )
        {
            if ( pte )
                FAIL("pfn %#lx has no frame but is mapped: PTE %#lx", pfn,
                     pte);
            continue;
        }
        if ( !mfn_eq(pte_mfn(pte), mfn) )
            FAIL("pfn %#lx: direct map PTE %#lx, expected mfn %#lx",
                 pfn, pte, mfn_x(mfn));
        if ( machine_to_phys_mapping[mfn_x(pte_mfn(pte))] != pfn )
            FAIL("pfn %#lx: the direct map's mfn %#lx is pfn %#lx to Xen",
                 pfn, mfn_x(pte_mfn(pte)),
                 machine_to_phys_mapping[mfn_x(pte_mfn(pte))]);
    }
}

/*
 * Read-only exactly where the frame's role says so (pagetables and the
 * p2m's shared pages); never executable.
 */
TEST(directmap, permissions_follow_frame_roles)
{
    unsigned long pfn, nr = frame_total();

    for ( pfn = 0; pfn < nr; pfn++ )
    {
        pte_t pte = kernel_pte(directmap_va(_pfn(pfn)));
        bool ro = pt_role(_pfn(pfn)) & PT_ROLE_RO;

        if ( !p2m_is_populated(_pfn(pfn)) )
            continue;
        if ( !!(pte & _PAGE_RW) == ro )
            FAIL("pfn %#lx: PTE %#lx, role %#x", pfn, pte, pt_role(_pfn(pfn)));
        if ( (pte & _PAGE_NX) != pte_nx )
            FAIL("pfn %#lx: PTE %#lx is executable", pfn, pte);
    }
    /* The builder's tables and the direct map's own are among them. */
    for ( pfn = 0; pfn < bootmap.pt_count; pfn++ )
        ASSERT_TRUE(pt_role(_pfn(pfn_x(bootmap.pt_first) + pfn)) & PT_ROLE_RO);
    for ( pfn = 0; pfn < mm_boot_stats.directmap_pages; pfn++ )
        ASSERT_EQ(pt_role(_pfn(pfn_x(directmap.pt_first) + pfn)) &
                  PT_ROLE_LEVEL_MASK, pfn == 0 ? 3 : pfn <= directmap.nr_l2 ? 2 : 1);
}

TEST(directmap, kernel_table_alias_write_faults)
{
    pfn_t root = mfn_to_pfn(pt_kernel_root());
    volatile uint64_t *alias = directmap_va(root);
    uint64_t before = alias[0];
    struct exc_fault f;

    ASSERT_TRUE(exc_probe_write(&alias[0], before ^ 1, &f));
    ASSERT_EQ(f.vector, VEC_PF);
    ASSERT_EQ(f.cr2, (uint64_t)&alias[0]);
    ASSERT_EQ(alias[0], before);
}

static uint64_t image_data_word = 0x1122334455667788UL;

/* What the builder's mapping of image page va must allow. */
static pte_t image_flags(unsigned long va)
{
    if ( va >= (unsigned long)_text && va < (unsigned long)_etext )
        return 0;                               /* read-only, executable */
    if ( va >= (unsigned long)_rodata && va < (unsigned long)_erodata )
        return pte_nx;
    return _PAGE_RW | pte_nx;
}

/*
 * Every page of the image, from _text to _end: text read-only and
 * executable, rodata read-only, the rest writable, nothing else
 * executable; and a write to any text page faults (probed with the bytes
 * already there, harmless if the protection were missing).
 */
TEST(bootmap, text_read_only_and_only_text_executable)
{
    unsigned long va, pages = 0;
    struct exc_fault f;
    pte_t pte;

    for ( va = (unsigned long)_text; va < (unsigned long)_end;
          va += PAGE_SIZE, pages++ )
    {
        volatile uint64_t *word = (volatile uint64_t *)va;

        pte = kernel_pte((void *)va);
        if ( !(pte & _PAGE_PRESENT) ||
             (pte & (_PAGE_RW | _PAGE_NX)) != image_flags(va) )
            FAIL("image page %#lx: PTE %#lx, want RW|NX = %#lx", va, pte,
                 image_flags(va));
        if ( va < (unsigned long)_etext &&
             (!exc_probe_write(word, *word, &f) || f.vector != VEC_PF ||
              (f.error_code & (PFEC_PRESENT | PFEC_WRITE)) !=
              (PFEC_PRESENT | PFEC_WRITE)) )
            FAIL("text page %#lx: a write did not fault", va);
    }
    ASSERT_EQ(pages, ((unsigned long)_end - (unsigned long)_text +
                      PAGE_SIZE - 1) / PAGE_SIZE);
    image_data_word ^= 1;       /* data is writable */
    ASSERT_EQ(image_data_word, 0x1122334455667789UL);
    image_data_word ^= 1;
}

/*
 * Each slot maps the frame it was given: a tag written through the
 * direct map reads back through the slot, the slot's PTE names the mfn
 * and Xen's M2P names the pfn behind it; writes through a slot land in
 * the frame; and unmapping clears the PTE.
 */
TEST(pmap, slots_map_distinct_frames_and_free)
{
    uint64_t *va[PMAP_SLOTS];
    pfn_t pfn[PMAP_SLOTS];
    unsigned int i;
    pte_t pte;

    for ( i = 0; i < PMAP_SLOTS; i++ )
    {
        pfn[i] = frame_alloc();
        ASSERT_TRUE(!pfn_eq(pfn[i], INVALID_PFN));
        ((uint64_t *)directmap_va(pfn[i]))[7] = 0x9a0000 + i;
    }
    for ( i = 0; i < PMAP_SLOTS; i++ )
    {
        va[i] = pmap_map(pfn_to_mfn(pfn[i]), true);
        ASSERT_TRUE(pmap_owns(va[i]));
        ASSERT_EQ(va[i][7], 0x9a0000 + i);
        pte = kernel_pte(va[i]);
        ASSERT_EQ(mfn_x(pte_mfn(pte)), mfn_x(pfn_to_mfn(pfn[i])));
        ASSERT_EQ(machine_to_phys_mapping[mfn_x(pte_mfn(pte))], pfn_x(pfn[i]));
        va[i][9] = ~(uint64_t)i;
    }
    for ( i = 1; i < PMAP_SLOTS; i++ )
        ASSERT_NE((unsigned long)va[i], (unsigned long)va[i - 1]);
    for ( i = 0; i < PMAP_SLOTS; i++ )
    {
        pmap_unmap(va[i]);
        ASSERT_EQ(kernel_pte(va[i]), 0);
        ASSERT_EQ(((uint64_t *)directmap_va(pfn[i]))[9], ~(uint64_t)i);
        frame_free(pfn[i]);
    }
}

static unsigned long lazy_callback_runs;

static void note_run(void *arg)
{
    (void)arg;
    lazy_callback_runs++;
}

/*
 * A PMAP mapping made inside a caller's lazy batch leaves that batch
 * alone: its queued request, its callback and its TLB flush wait for the
 * caller's own mmu_lazy_end().
 */
TEST(pmap, map_inside_a_lazy_batch_leaves_it_queued)
{
    struct mmuext_op flush = { .cmd = MMUEXT_TLB_FLUSH_LOCAL };
    pfn_t pfn = frame_alloc();
    struct mc_stats s0;
    void *va;

    ASSERT_TRUE(!pfn_eq(pfn, INVALID_PFN));
    lazy_callback_runs = 0;
    mmu_lazy_begin();
    ASSERT_EQ(mc_mmuext(&flush), 0);
    ASSERT_EQ(mc_callback(note_run, NULL), 0);
    s0 = *mc_get_stats();
    va = pmap_map(pfn_to_mfn(pfn), false);
    pmap_unmap(va);
    ASSERT_EQ(mc_pending(), 1);
    ASSERT_EQ(lazy_callback_runs, 0);
    ASSERT_EQ(mc_get_stats()->hypercalls - s0.hypercalls, 2);
    ASSERT_EQ(mmu_lazy_end(), 0);
    ASSERT_EQ(mc_pending(), 0);
    ASSERT_EQ(lazy_callback_runs, 1);
    frame_free(pfn);
}

TEST(frame, alloc_free_keeps_count)
{
    unsigned long before = frame_free_count();
    pfn_t a = frame_alloc(), b = frame_alloc();

    ASSERT_TRUE(!pfn_eq(a, INVALID_PFN) && !pfn_eq(b, INVALID_PFN));
    ASSERT_NE(pfn_x(a), pfn_x(b));
    ASSERT_EQ(frame_free_count(), before - 2);
    frame_free(a);
    frame_free(b);
    ASSERT_EQ(frame_free_count(), before);
}
