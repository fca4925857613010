/*
 * Pagetable lifecycle, pinning, and batched updates, against real Xen.
 */
#include <pvmm/test.h>
#include <pvmm/pt.h>
#include <pvmm/frame.h>
#include <pvmm/p2m_boot.h>
#include <pvmm/directmap.h>
#include <pvmm/multicall.h>
#include <pvmm/traps.h>
#include <pvmm/printk.h>
#include <pvmm/lib.h>

/* In the lower half, which the kernel's tree leaves empty. */
#define TEST_VA     0x0000100000000000UL
#define TEST_MAGIC  0x5eed0f00d5eed0f0UL
#define TWO_MIB     (2UL << 20)

struct space {
    mfn_t root;
    pfn_t data;
};

/* A new address space mapping one data frame at TEST_VA (+ extra L1s). */
static int space_build(struct space *s, unsigned int nr_l1)
{
    unsigned int i;
    int rc = 0;

    s->data = frame_alloc();
    if ( pfn_eq(s->data, INVALID_PFN) )
        return -XEN_ENOMEM;
    *(uint64_t *)directmap_va(s->data) = TEST_MAGIC;
    s->root = pt_alloc(4);
    if ( mfn_eq(s->root, INVALID_MFN) )
        return -XEN_ENOMEM;
    for ( i = 0; !rc && i < nr_l1; i++ )
        rc = pt_map_page(s->root, TEST_VA + i * TWO_MIB,
                         pfn_to_mfn(s->data), PTE_KERNEL_RO | pte_nx);
    return rc;
}

static int space_destroy(struct space *s)
{
    int rc = pt_unpin(s->root);

    if ( !rc )
        rc = pt_free_tree(s->root);
    frame_free(s->data);
    return rc;
}

TEST(pt, second_address_space_sees_private_mapping)
{
    unsigned long before = frame_free_count();
    struct space s;
    struct exc_fault f;
    uint64_t val = 0;
    bool faulted;

    ASSERT_EQ(space_build(&s, 1), 0);
    ASSERT_EQ(pt_pin(s.root), 0);
    ASSERT_EQ(pt_switch(s.root), 0);
    faulted = exc_probe_read((void *)TEST_VA, &val, &f);
    ASSERT_EQ(pt_switch(pt_kernel_root()), 0);

    ASSERT_TRUE(!faulted);
    ASSERT_EQ(val, TEST_MAGIC);
    /* The kernel's own tree does not have it. */
    ASSERT_TRUE(exc_probe_read((void *)TEST_VA, &val, &f));
    ASSERT_EQ(f.cr2, TEST_VA);
    ASSERT_EQ(space_destroy(&s), 0);
    ASSERT_EQ(frame_free_count(), before);
}

TEST(pt, pinned_table_is_read_only_until_unpinned)
{
    struct space s;
    volatile uint64_t *alias;
    struct exc_fault f;
    uint64_t before;

    ASSERT_EQ(space_build(&s, 1), 0);
    alias = directmap_va(mfn_to_pfn(s.root));
    ASSERT_EQ(pt_pin(s.root), 0);
    ASSERT_EQ(pt_pin(s.root), 0);           /* idempotent */
    before = alias[1];

    ASSERT_TRUE(exc_probe_write(&alias[1], 0xbad, &f));
    ASSERT_EQ(f.vector, VEC_PF);
    ASSERT_EQ(f.cr2, (uint64_t)&alias[1]);
    ASSERT_EQ(f.error_code & (PFEC_PRESENT | PFEC_WRITE),
              PFEC_PRESENT | PFEC_WRITE);
    ASSERT_EQ(alias[1], before);
    ASSERT_TRUE(pt_role(mfn_to_pfn(s.root)) & PT_ROLE_PINNED);

    ASSERT_EQ(pt_unpin(s.root), 0);
    ASSERT_EQ(pt_unpin(s.root), 0);         /* idempotent */
    ASSERT_TRUE(!exc_probe_write(&alias[1], before, &f));
    ASSERT_EQ(pt_free_tree(s.root), 0);
    frame_free(s.data);
}

/*
 * A pinned space (one L1) for the multicall tests, with the L1 and the
 * index that maps TEST_VA; other must be a frame, for requests to map.
 */
static void pinned_space(struct space *s, pfn_t other, mfn_t *l1,
                         unsigned int *index)
{
    ASSERT_TRUE(!pfn_eq(other, INVALID_PFN));
    ASSERT_EQ(space_build(s, 1), 0);
    ASSERT_EQ(pt_pin(s->root), 0);
    ASSERT_EQ(pt_walk(s->root, TEST_VA, 1, l1, index), 0);
}

/*
 * One mmu_update entry with three requests, the middle one illegal (a
 * writable mapping of a pinned L4).  Xen stops at it: the first took
 * effect, the third did not, and the error names op 1.
 */
TEST(multicall, bad_update_in_batch_is_reported_by_index)
{
    struct space s;
    pfn_t other = frame_alloc();
    unsigned int index;
    mfn_t l1;
    uint64_t base;
    int rc;

    pinned_space(&s, other, &l1, &index);
    ASSERT_OK_HELPER();
    base = (mfn_x(l1) << PAGE_SHIFT) + index * 8;

    ASSERT_EQ(mc_pending(), 0);
    ASSERT_EQ(mc_mmu_update(base + 8, pte_from_mfn(pfn_to_mfn(other),
                                                   PTE_KERNEL_RO)), 0);
    ASSERT_EQ(mc_mmu_update(base + 16, pte_from_mfn(s.root, PTE_KERNEL_RW)), 0);
    ASSERT_EQ(mc_mmu_update(base + 24, pte_from_mfn(pfn_to_mfn(other),
                                                    PTE_KERNEL_RO)), 0);
    rc = mc_flush();

    ASSERT_TRUE(rc < 0);
    ASSERT_EQ(mc_last_error()->op_index, 1);
    ASSERT_EQ(mc_last_error()->hypercall, __HYPERVISOR_mmu_update);
    ASSERT_EQ(mc_last_error()->rc, rc);
    ASSERT_EQ(mfn_x(pte_mfn(pt_get_entry(l1, index + 1))),
              mfn_x(pfn_to_mfn(other)));
    ASSERT_EQ(pt_get_entry(l1, index + 2), 0);
    ASSERT_EQ(pt_get_entry(l1, index + 3), 0);

    ASSERT_EQ(pt_set_entry(l1, index + 1, 0), 0);
    ASSERT_EQ(space_destroy(&s), 0);
    frame_free(other);
}

/*
 * A full batch whose first entry Xen refuses, then one more request that
 * needs a new entry: the batch is issued to make room, fails, and the new
 * request must come back with that error and NOT be queued (it would
 * otherwise take effect at some later flush the caller did not expect).
 */
TEST(multicall, request_after_a_failed_full_batch_is_not_queued)
{
    struct mmuext_op invlpg = { .cmd = MMUEXT_INVLPG_LOCAL,
                                .arg1.linear_addr = TEST_VA };
    pfn_t other = frame_alloc();
    unsigned int index, i;
    struct space s;
    uint64_t base;
    mfn_t l1;
    int rc;

    pinned_space(&s, other, &l1, &index);
    ASSERT_OK_HELPER();
    base = (mfn_x(l1) << PAGE_SHIFT) + index * 8;

    ASSERT_EQ(mc_pending(), 0);
    /* Entry 0: a writable mapping of a pinned L4, which Xen refuses. */
    ASSERT_EQ(mc_mmu_update(base + 16, pte_from_mfn(s.root, PTE_KERNEL_RW)), 0);
    /* Entries 1..63: harmless, alternating so that none extends another. */
    for ( i = 1; i < MC_MAX_ENTRIES; i++ )
        ASSERT_EQ(i % 2 ? mc_mmuext(&invlpg)
                        : mc_mmu_update(base + 8, 0), 0);
    ASSERT_EQ(mc_pending(), MC_MAX_ENTRIES);

    rc = mc_mmu_update(base + 24, pte_from_mfn(pfn_to_mfn(other),
                                               PTE_KERNEL_RO));
    ASSERT_TRUE(rc < 0);
    ASSERT_EQ(mc_last_error()->op_index, 0);
    ASSERT_EQ(mc_pending(), 0);
    ASSERT_EQ(mc_flush(), 0);
    /* Read back from the table Xen wrote: the refused request never ran. */
    ASSERT_EQ(pt_get_entry(l1, index + 3), 0);
    ASSERT_EQ(pt_get_entry(l1, index + 2), 0);

    ASSERT_EQ(space_destroy(&s), 0);
    frame_free(other);
}

/* 125 L1s + L2 + L3 + L4 = 128 pages. */
#define BIG_TREE_L1S 125

TEST(pt, pin_of_big_tree_is_batched_with_one_flush)
{
    unsigned long before_free = frame_free_count(), pages;
    struct mc_stats s0, s1, s2;
    struct space s;

    ASSERT_EQ(space_build(&s, BIG_TREE_L1S), 0);
    pages = before_free - frame_free_count() - 1;   /* less the data page */
    ASSERT_EQ(pages, BIG_TREE_L1S + 3);

    s0 = *mc_get_stats();
    ASSERT_EQ(pt_pin(s.root), 0);
    s1 = *mc_get_stats();
    ASSERT_EQ(pt_unpin(s.root), 0);
    s2 = *mc_get_stats();

    printk("         pin of %lu pages: %lu hypercalls, %lu entries, %lu ops, "
           "%lu TLB flushes; unpin: %lu hypercalls, %lu entries, %lu ops, "
           "%lu TLB flushes\n", pages, s1.hypercalls - s0.hypercalls,
           s1.entries - s0.entries, s1.mmu_ops - s0.mmu_ops,
           s1.tlb_flushes - s0.tlb_flushes, s2.hypercalls - s1.hypercalls,
           s2.entries - s1.entries, s2.mmu_ops - s1.mmu_ops,
           s2.tlb_flushes - s1.tlb_flushes);
    ASSERT_LE(s1.hypercalls - s0.hypercalls, (pages + 63) / 64 + 2);
    ASSERT_EQ(s1.tlb_flushes - s0.tlb_flushes, 1);
    /* One read-only update per page, the pin, the flush. */
    ASSERT_GE(s1.mmu_ops - s0.mmu_ops, pages + 2);
    ASSERT_LE(s2.hypercalls - s1.hypercalls, (pages + 63) / 64 + 2);
    ASSERT_EQ(s2.tlb_flushes - s1.tlb_flushes, 1);

    ASSERT_EQ(pt_free_tree(s.root), 0);
    frame_free(s.data);
    ASSERT_EQ(frame_free_count(), before_free);
}

TEST(pt, pin_unpin_10000_times_leaks_nothing)
{
    unsigned long before = frame_free_count();
    struct space s;
    unsigned int i;
    int rc = 0;

    ASSERT_EQ(space_build(&s, 1), 0);
    for ( i = 0; !rc && i < 10000; i++ )
    {
        rc = pt_pin(s.root);
        if ( !rc )
            rc = pt_unpin(s.root);
    }
    ASSERT_EQ(rc, 0);
    ASSERT_EQ(i, 10000);
    ASSERT_EQ(space_destroy(&s), 0);
    ASSERT_EQ(frame_free_count(), before);
}

TEST(pt, build_free_1000_times_leaks_nothing)
{
    unsigned long before = frame_free_count();
    unsigned int i;
    int rc = 0;

    for ( i = 0; !rc && i < 1000; i++ )
    {
        struct space s;

        rc = space_build(&s, 2);
        if ( !rc )
            rc = pt_pin(s.root);
        if ( !rc )
            rc = space_destroy(&s);
    }
    ASSERT_EQ(rc, 0);
    ASSERT_EQ(frame_free_count(), before);
}

TEST(pt, alloc_with_allocator_exhausted_returns_invalid)
{
    unsigned long before = frame_free_count(), taken = 0;
    pfn_t head = INVALID_PFN, p;
    struct space s;
    int rc;

    ASSERT_EQ(space_build(&s, 0), 0);       /* a root, no tables yet */
    /* Take every frame, chaining them through their own first word. */
    while ( !pfn_eq(p = frame_alloc(), INVALID_PFN) )
    {
        *(pfn_t *)directmap_va(p) = head;
        head = p;
        taken++;
    }
    ASSERT_EQ(frame_free_count(), 0);
    ASSERT_EQ(mfn_x(pt_alloc(1)), mfn_x(INVALID_MFN));
    rc = pt_map_page(s.root, TEST_VA, pfn_to_mfn(s.data), PTE_KERNEL_RO);

    while ( !pfn_eq(head, INVALID_PFN) )
    {
        p = head;
        head = *(pfn_t *)directmap_va(p);
        frame_free(p);
    }
    ASSERT_EQ(rc, -XEN_ENOMEM);
    ASSERT_EQ(taken, before - 2);
    ASSERT_EQ(space_destroy(&s), 0);
    ASSERT_EQ(frame_free_count(), before);
}

TEST(mmu, lazy_mode_issues_updates_together)
{
    struct space s;
    unsigned int index, i;
    struct mc_stats s0, s1;
    mfn_t l1;
    int rc = 0;

    ASSERT_EQ(space_build(&s, 1), 0);
    ASSERT_EQ(pt_pin(s.root), 0);
    ASSERT_EQ(pt_walk(s.root, TEST_VA, 1, &l1, &index), 0);

    s0 = *mc_get_stats();
    mmu_lazy_begin();
    for ( i = 1; !rc && i <= 32; i++ )
        rc = pt_set_entry(l1, index + i,
                          pte_from_mfn(pfn_to_mfn(s.data), PTE_KERNEL_RO));
    ASSERT_EQ(rc, 0);
    ASSERT_EQ(mc_get_stats()->hypercalls, s0.hypercalls);   /* queued */
    ASSERT_EQ(mmu_lazy_end(), 0);
    s1 = *mc_get_stats();
    ASSERT_EQ(s1.hypercalls - s0.hypercalls, 1);
    ASSERT_EQ(s1.mmu_ops - s0.mmu_ops, 32);
    ASSERT_EQ(mfn_x(pte_mfn(pt_get_entry(l1, index + 32))),
              mfn_x(pfn_to_mfn(s.data)));

    for ( i = 1; !rc && i <= 32; i++ )
        rc = pt_set_entry(l1, index + i, 0);
    ASSERT_EQ(rc, 0);
    ASSERT_EQ(space_destroy(&s), 0);
}

/*
 * pt_map_page on the pinned kernel tree inside lazy mode: the second page
 * must reuse the tables the first one created (the link of a new table is
 * issued at once, since the walk reads it back).
 */
TEST(mmu, lazy_map_into_pinned_tree_reuses_new_tables)
{
    const unsigned long va = 0x0000300000000000UL;   /* L4 slot 96 */
    unsigned long before = frame_free_count();
    pfn_t a = frame_alloc(), b = frame_alloc();
    struct exc_fault f;
    uint64_t val = 0;
    int rc1, rc2;

    ASSERT_TRUE(!pfn_eq(a, INVALID_PFN) && !pfn_eq(b, INVALID_PFN));
    *(uint64_t *)directmap_va(b) = TEST_MAGIC;
    mmu_lazy_begin();
    rc1 = pt_map_page(pt_kernel_root(), va, pfn_to_mfn(a), PTE_KERNEL_RO);
    rc2 = pt_map_page(pt_kernel_root(), va + PAGE_SIZE, pfn_to_mfn(b),
                      PTE_KERNEL_RO);
    ASSERT_EQ(mmu_lazy_end(), 0);
    ASSERT_EQ(rc1, 0);
    ASSERT_EQ(rc2, 0);
    /* Two data frames and one L3, L2 and L1 between them. */
    ASSERT_EQ(before - frame_free_count(), 2 + 3);
    ASSERT_TRUE(!exc_probe_read((void *)(va + PAGE_SIZE), &val, &f));
    ASSERT_EQ(val, TEST_MAGIC);

    {
        pte_t e = pt_get_entry(pt_kernel_root(), pt_index(va, 4));

        mc_request_tlb_flush();
        ASSERT_EQ(pt_set_entry(pt_kernel_root(), pt_index(va, 4), 0), 0);
        pt_free_subtree(e, 3);
    }
    frame_free(a);
    frame_free(b);
    ASSERT_EQ(frame_free_count(), before);
}

static unsigned int callback_runs;
static unsigned long callback_seen_pending;

static void count_callback(void *arg)
{
    callback_runs += (unsigned long)arg;
    callback_seen_pending = mc_pending();
}

/* A callback runs once, after its batch has gone to Xen, not before. */
TEST(multicall, callback_runs_after_the_flush)
{
    struct mmuext_op flush = { .cmd = MMUEXT_TLB_FLUSH_LOCAL };
    struct mc_stats s0 = *mc_get_stats();

    callback_runs = 0;
    callback_seen_pending = ~0UL;
    ASSERT_EQ(mc_mmuext(&flush), 0);
    ASSERT_EQ(mc_callback(count_callback, (void *)1), 0);
    ASSERT_EQ(callback_runs, 0);
    ASSERT_EQ(mc_pending(), 1);
    ASSERT_EQ(mc_flush(), 0);
    ASSERT_EQ(callback_runs, 1);
    ASSERT_EQ(callback_seen_pending, 0);        /* the batch had gone out */
    ASSERT_EQ(mc_get_stats()->hypercalls - s0.hypercalls, 1);
    ASSERT_EQ(mc_flush(), 0);                   /* and does not run again */
    ASSERT_EQ(callback_runs, 1);
}
