/*
 * Ballooning against real Xen, and the sparse p2m it exercises.
 */
#include <pvmm/test.h>
#include "mm_helpers.h"
#include <pvmm/balloon.h>
#include <pvmm/frame.h>
#include <pvmm/p2m_boot.h>
#include <pvmm/pmap.h>
#include <pvmm/printk.h>
#include <pvmm/multicall.h>
#include <pvmm/shared_info.h>
#include <pvmm/lib.h>
#include <pvmm/hypercall.h>
#include <pvmm/time.h>

#define ROUND_FRAMES 1000
#define ROUNDS      1000
#define AUDIT_EVERY_ROUND_PFNS  (1UL << 19)     /* 2 GiB of pfns */

static pfn_t old_pfns[ROUND_FRAMES];
static pfn_t new_pfns[ROUND_FRAMES / 2];

/* Far above everything the boot and the other tests populate. */
static unsigned long fresh_region(void)
{
    return ROUNDUP(p2m_size, GIB_PFNS) + GIB_PFNS;
}

/*
 * Each round: release 1000 frames; populate half back at their old pfns
 * and half at new pfns far away; give the new ones back; populate the
 * rest of the old ones.  Everything must be exactly as before.
 */
static void one_round(unsigned long round, unsigned long base)
{
    unsigned long done, i, half = ROUND_FRAMES / 2;

    ASSERT_EQ(balloon_release(ROUND_FRAMES, old_pfns, &done), 0);
    ASSERT_EQ(done, ROUND_FRAMES);
    ASSERT_EQ(balloon_populate_list(old_pfns, half, &done), 0);
    ASSERT_EQ(done, half);
    for ( i = 0; i < half; i++ )
        new_pfns[i] = _pfn(base + (round % 7) * 4096 + i * 3);
    ASSERT_EQ(balloon_populate_list(new_pfns, half, &done), 0);
    ASSERT_EQ(done, half);
    ASSERT_EQ(balloon_release_pfns(new_pfns, half, &done), 0);
    ASSERT_EQ(done, half);
    ASSERT_EQ(balloon_populate_list(old_pfns + half, half, &done), 0);
    ASSERT_EQ(done, half);
}

TEST(balloon, release_and_populate_1000_frames_1000_times)
{
    unsigned long free0 = free_or_kept(), pop0 = p2m_nr_populated;
    unsigned long base = fresh_region(), round;
    struct mc_stats s0 = *mc_get_stats(), s1;
    unsigned long b0 = balloon_get_stats()->hypercalls;

    for ( round = 0; round < ROUNDS; round++ )
    {
        one_round(round, base);
        ASSERT_OK_HELPER();
        if ( free_or_kept() != free0 || p2m_nr_populated != pop0 )
            FAIL("round %lu: %lu frames free or kept (was %lu), %lu "
                 "populated (was %lu)", round, free_or_kept(), free0,
                 p2m_nr_populated, pop0);
        /*
         * The full audit reads every entry and the whole direct map: each
         * round in a small p2m, every 50th in a large one (the counts
         * above are still checked every round).
         */
        if ( (p2m_size <= AUDIT_EVERY_ROUND_PFNS || round % 50 == 49) &&
             p2m_audit() )
            FAIL("round %lu: the p2m audit failed", round);
    }
    s1 = *mc_get_stats();
    printk("         per round (1000 released, 1000 populated, 500 more "
           "of each at new pfns): %lu memory_op + %lu mmu hypercalls, "
           "%lu mmu ops\n", (balloon_get_stats()->hypercalls - b0) / ROUNDS,
           (s1.hypercalls - s0.hypercalls) / ROUNDS,
           (s1.mmu_ops - s0.mmu_ops) / ROUNDS);
    ASSERT_EQ(balloon_get_stats()->short_calls, 0);
}

/*
 * Four frames at about 1 GiB (or just above the guest, if it is larger),
 * 64 GiB, 4 TiB and 15 TiB of pseudo-physical space.
 */
static unsigned long sparse_pfn[4];

static void choose_sparse_pfns(void)
{
    sparse_pfn[0] = MAX(1UL << 18, ROUNDUP(p2m_size, GIB_PFNS)) + 17;
    sparse_pfn[1] = (1UL << 24) + 1000;
    sparse_pfn[2] = (1UL << 30) + 3;
    sparse_pfn[3] = 15UL << 28;
}

/* Each frame is mapped, writable and holds what was written. */
static void check_sparse_frames(void)
{
    unsigned int i;

    for ( i = 0; i < ARRAY_SIZE(sparse_pfn); i++ )
    {
        unsigned long p = sparse_pfn[i];
        mfn_t mfn = pfn_to_mfn(_pfn(p));
        volatile unsigned long *va;

        ASSERT_NE(mfn_x(mfn), mfn_x(INVALID_MFN));
        ASSERT_EQ(pfn_x(mfn_to_pfn(mfn)), p);
        /* Neighbours read as nobody wrote them: MMIO to dom0. */
        ASSERT_EQ(p2m_get_entry(_pfn(p - 1)), p2m_unpopulated_entry(_pfn(p - 1)));
        ASSERT_EQ(p2m_get_entry(_pfn(p + 1)), p2m_unpopulated_entry(_pfn(p + 1)));
        va = pmap_map(mfn, true);
        va[0] = p ^ 0x5a5a;
        va[511] = ~p;
        ASSERT_TRUE(va[0] == (p ^ 0x5a5a) && va[511] == ~p);
        pmap_unmap((void *)va);
    }
}

TEST(balloon, sparse_populate_terabytes_apart)
{
    unsigned long free0 = free_or_kept(), pop0 = p2m_nr_populated, done;
    pfn_t pfns[ARRAY_SIZE(sparse_pfn)], room[ARRAY_SIZE(sparse_pfn)];
    struct p2m_stats s0, s1, s2;
    unsigned int i;

    choose_sparse_pfns();
    ASSERT_LT(sparse_pfn[0], sparse_pfn[1]);
    for ( i = 0; i < ARRAY_SIZE(sparse_pfn); i++ )
        pfns[i] = _pfn(sparse_pfn[i]);
    /* Make room first: a domU sits at its reservation. */
    ASSERT_EQ(balloon_release(ARRAY_SIZE(room), room, &done), 0);
    p2m_get_stats(&s0);

    ASSERT_EQ(balloon_populate_list(pfns, ARRAY_SIZE(pfns), &done), 0);
    ASSERT_EQ(done, ARRAY_SIZE(pfns));
    p2m_get_stats(&s1);
    check_sparse_frames();
    ASSERT_OK_HELPER();
    if ( boot_opts.p2m_map )
        p2m_map_dump("sparse");     /* for the picture in docs/p2m.md */
    printk("         4 sparse frames: +%lu leaves, +%lu L1s, +%lu L2s, "
           "+%lu frame-list pages; p2m size now %#lx pfns\n",
           s1.private_leaves - s0.private_leaves, s1.private_l1 - s0.private_l1,
           s1.private_l2 - s0.private_l2,
           s1.frame_list_pages - s0.frame_list_pages, p2m_size);
    /* One leaf and one L1 per chunk, an L2 for each new 512 GiB range. */
    ASSERT_EQ(s1.private_leaves - s0.private_leaves, 4);
    ASSERT_LE(s1.private_l1 - s0.private_l1, 4);
    ASSERT_LE(s1.private_l2 - s0.private_l2, 2);
    ASSERT_GE(p2m_size, sparse_pfn[3] + 1);
    ASSERT_EQ(xen_shared_info->arch.max_pfn, p2m_size);
    ASSERT_EQ(p2m_audit(), 0);

    ASSERT_EQ(balloon_release_pfns(pfns, ARRAY_SIZE(pfns), &done), 0);
    ASSERT_EQ(balloon_populate_list(room, ARRAY_SIZE(room), &done), 0);
    p2m_get_stats(&s2);
    ASSERT_EQ(p2m_size, s0.size);               /* trimmed back */
    ASSERT_EQ(xen_shared_info->arch.max_pfn, s0.size);
    ASSERT_EQ(s2.private_leaves, s0.private_leaves);
    ASSERT_EQ(s2.private_l1, s0.private_l1);
    ASSERT_EQ(s2.private_l2, s0.private_l2);
    /* Frame-list mids made for the far GiBs are kept: only those. */
    ASSERT_EQ(s2.frame_list_pages, s1.frame_list_pages);
    ASSERT_EQ(free_or_kept(), free0);
    ASSERT_EQ(p2m_nr_populated, pop0);
}

/* Gives back the populated pfns first..first+n-1, every one of them. */
static void release_range(unsigned long first, unsigned long n)
{
    pfn_t list[BALLOON_BATCH];
    unsigned long p, i, k, done;

    for ( p = first; p < first + n; p += k )
    {
        k = MIN(BALLOON_BATCH, first + n - p);
        for ( i = 0; i < k; i++ )
            list[i] = _pfn(p + i);
        ASSERT_EQ(balloon_release_pfns(list, k, &done), 0);
        ASSERT_EQ(done, k);
    }
}

/*
 * Ask for more than Xen can give: a domU hits its maximum reservation,
 * dom0 (no maximum) the host's free memory.  The count must be exact,
 * the p2m consistent, and everything given back afterwards.
 */
TEST(balloon, short_populate_reports_exact_count)
{
    unsigned long free0 = free_or_kept(), pop0 = p2m_nr_populated;
    unsigned long base = fresh_region() + 8 * GIB_PFNS, ask, done, got, p;
    domid_t self = DOMID_SELF;
    long cur = HYPERVISOR_memory_op(XENMEM_current_reservation, &self);
    long max = HYPERVISOR_memory_op(XENMEM_maximum_reservation, &self);
    int rc;

    ASSERT_GT(cur, 0);
    ask = max < 0xffffffffL ? (unsigned long)(max - cur) + 100 : 1UL << 21;
    rc = balloon_populate(_pfn(base), ask, &done);

    ASSERT_EQ(rc, -XEN_ENOMEM);
    ASSERT_LT(done, ask);
    if ( max < 0xffffffffL )
        ASSERT_EQ(done, (unsigned long)(max - cur));
    for ( got = 0, p = base; p < base + ask; p++ )
        got += p2m_is_populated(_pfn(p));
    ASSERT_EQ(got, done);
    ASSERT_EQ(p2m_nr_populated, pop0 + done);
    ASSERT_EQ(p2m_audit(), 0);

    release_range(base, done);
    ASSERT_OK_HELPER();
    ASSERT_EQ(p2m_nr_populated, pop0);
    ASSERT_EQ(free_or_kept(), free0);
}

TEST(balloon, populate_rejects_a_populated_or_impossible_pfn)
{
    pfn_t taken = _pfn(0x300);      /* inside the image's chunk */
    unsigned long done = 99;

    ASSERT_TRUE(p2m_is_populated(taken));
    ASSERT_EQ(balloon_populate(taken, 1, &done), -XEN_EINVAL);
    ASSERT_EQ(done, 0);
    ASSERT_EQ(balloon_populate(_pfn(P2M_MAX_PFNS), 1, &done), -XEN_EINVAL);
    taken = _pfn(P2M_MAX_PFNS);
    ASSERT_EQ(balloon_release_pfns(&taken, 1, &done), -XEN_EINVAL);
}

/* Waits about ns, blocked in Xen: long enough for dom0's `xl list`. */
static void linger(uint64_t ns)
{
    time_sleep_until(time_now_ns() + ns);
}

/*
 * A domU with maxmem above memory: balloon up to the maximum reservation
 * and back.  It lingers at the top so that dom0's `xl list` sees it
 * (tests/xl/job.sh records the range; run-domu.sh checks it).
 */
TEST(balloon, up_to_maxmem_and_back)
{
    unsigned long free0 = free_or_kept(), base = fresh_region(), done;
    domid_t self = DOMID_SELF;
    long cur = HYPERVISOR_memory_op(XENMEM_current_reservation, &self);
    long max = HYPERVISOR_memory_op(XENMEM_maximum_reservation, &self);
    uint64_t deadline = time_now_ns() + 10 * NSEC_PER_SEC;

    /* A domU's room appears when dom0 raises its target (xl mem-set). */
    while ( !xen_is_dom0() && max <= cur + 256 && time_now_ns() < deadline )
    {
        linger(NSEC_PER_SEC / 10);
        max = HYPERVISOR_memory_op(XENMEM_maximum_reservation, &self);
    }
    if ( max >= 0xffffffffL || max <= cur + 256 )
        SKIP("no room between the reservation (%ld) and its maximum (%ld)",
             cur, max);
    ASSERT_EQ(balloon_populate(_pfn(base), max - cur, &done), 0);
    ASSERT_EQ(done, (unsigned long)(max - cur));
    ASSERT_EQ(HYPERVISOR_memory_op(XENMEM_current_reservation, &self), max);
    printk("BALLOON-AT-MAX pages=%ld\n", max);
    /*
     * Long enough for dom0's `xl list`, polled every 0.3 s but slow under
     * TCG, to see it at least once (3 s was once not enough).
     */
    linger(10 * NSEC_PER_SEC);

    release_range(base, done);
    ASSERT_OK_HELPER();
    ASSERT_EQ(HYPERVISOR_memory_op(XENMEM_current_reservation, &self), cur);
    ASSERT_EQ(free_or_kept(), free0);
    ASSERT_EQ(p2m_audit(), 0);
}

struct ram_entry {
    uint64_t addr, size;
    uint32_t type;
} __attribute__((packed));

/*
 * After all the releases above (each ends in p2m_trim), the p2m must still
 * be as large as at boot, never smaller: it covers every RAM page of the
 * memory map, read here from Xen directly: the host's as dom0, the one
 * libxl gave a domU (up to maxmem, which its size covers from boot as
 * the maximum reservation does).
 */
TEST(balloon, p2m_still_covers_all_ram_after_trims)
{
    static struct ram_entry map[128];
    struct xen_memory_map m = { .nr_entries = ARRAY_SIZE(map) };
    bool dom0 = xen_start_info->flags & SIF_INITDOMAIN;
    unsigned long i, end = 0;
    long rc;

    ASSERT_GE(p2m_size, xen_start_info->nr_pages);
    ASSERT_EQ(xen_shared_info->arch.max_pfn, p2m_size);
    set_xen_guest_handle(m.buffer, map);
    rc = HYPERVISOR_memory_op(dom0 ? XENMEM_machine_memory_map
                                   : XENMEM_memory_map, &m);
    /* A domU's map, set by libxl when it was built, runs up to maxmem. */
    if ( !dom0 && rc == -XEN_ENOSYS )
        return;
    ASSERT_EQ(rc, 0);
    for ( i = 0; i < m.nr_entries; i++ )
        if ( map[i].type == 1 )     /* E820 RAM */
            end = MAX(end, (map[i].addr + map[i].size) >> PAGE_SHIFT);
    ASSERT_GT(end, 0);
    ASSERT_GE(p2m_size, MIN(end, P2M_MAX_PFNS));
    ASSERT_EQ(xen_shared_info->arch.max_pfn, p2m_size);
}
