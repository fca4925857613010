/*
 * Save and restore, from inside (docs/suspend.md).  With await_save on
 * the command line, suspend.wait_for_a_save prepares what must survive
 * (a second address space left unpinned with a tagged page, a ballooned
 * hole, tags in free frames), prints PVMM-READY and waits for the runner
 * to save and restore (or checkpoint) the domain.  The tests after it
 * check the domain that came back against independent sources: Xen's
 * M2P and reservation count, the CR3 Xen runs, Xen's refusals (a pin of
 * a tree with a stale mfn fails), and the tags written before.
 * Without await_save (or as dom0) they skip.
 */
#include <pvmm/test.h>
#include <pvmm/suspend.h>
#include <pvmm/hold.h>
#include <pvmm/control.h>
#include <pvmm/xenstore.h>
#include <pvmm/console.h>
#include <pvmm/cmdline.h>
#include <pvmm/shared_info.h>
#include <pvmm/hypercall.h>
#include <pvmm/p2m_core.h>
#include <pvmm/p2m_boot.h>
#include <pvmm/balloon.h>
#include <pvmm/frame.h>
#include <pvmm/frame_tags.h>
#include <pvmm/layout.h>
#include <pvmm/pt.h>
#include <pvmm/cpu.h>
#include <pvmm/pmap.h>
#include <pvmm/traps.h>
#include <pvmm/time.h>
#include <pvmm/printk.h>
#include <pvmm/lib.h>
#include <pvmm/smp.h>
#include <xen/vcpu.h>

#define SAVE_WAIT_NS    (240UL * NSEC_PER_SEC)
#define TREE_VA         0x0000200000000000UL
#define NR_HOLE         8


/* What the wait recorded before the save, for the checks after it. */
static struct {
    bool done;                      /* a resume happened */
    pfn_t root;                     /* the unpinned second tree's L4 */
    pfn_t data;                     /* its tagged page */
    uint64_t tag;
    pfn_t hole[NR_HOLE];
    unsigned long nr_hole;
    long reservation;               /* Xen's count before */
    pfn_t shared_pfn[7];            /* the p2m's shared pages' pfns */
    struct frame_tags tags;
    unsigned long secondaries;      /* started before it: bit per vCPU */
} before;

/* Every secondary up and idle over the save (bit per vCPU started). */
static unsigned long start_secondaries(void)
{
    unsigned long started = 0;
    unsigned int id;

    for ( id = 1; id < smp_nr_vcpus(); id++ )
        if ( smp_start(id) == 0 )
            started |= 1UL << id;
    return started;
}

static long reservation(void)
{
    domid_t self = DOMID_SELF;

    return HYPERVISOR_memory_op(XENMEM_current_reservation, &self);
}

/* Skips the calling test (it then returns) unless a save came. */
static bool no_round(void)
{
    if ( !boot_opts.await_save || !xs_available() )
        test_skip("no runner saves this guest (await_save, a domU)");
    else if ( !before.done )
        test_skip("suspend.wait_for_a_save saw no save");
    else
        return false;
    return true;
}

static void shared_pfns(pfn_t *out)
{
    const struct p2m_shared_pages *s = p2m_shared_pages();
    const mfn_t m[7] = { s->missing, s->identity, s->missing_pte,
                         s->identity_pte, s->missing_pmd, s->identity_pmd,
                         s->l3 };
    unsigned int i;

    for ( i = 0; i < 7; i++ )
        out[i] = mfn_to_pfn(m[i]);
}

/*
 * A tree that stays unpinned over the save, mapping one tagged page.  It
 * is kept by pfn: an mfn held across a save is stale after the restore,
 * for a test as for any other caller.
 */
static int build_unpinned_tree(void)
{
    mfn_t root;

    before.data = frame_alloc();
    if ( pfn_eq(before.data, INVALID_PFN) )
        return -XEN_ENOMEM;
    before.tag = rdtsc() ^ (pfn_x(before.data) << 20);
    *(uint64_t *)directmap_va(before.data) = before.tag;
    root = pt_alloc(4);
    if ( mfn_eq(root, INVALID_MFN) )
        return -XEN_ENOMEM;
    before.root = mfn_to_pfn(root);
    return pt_map_page(root, TREE_VA, pfn_to_mfn(before.data),
                       PTE_KERNEL_RO | pte_nx);
}

/*
 * The memory check itself must be able to fail: one frame changed behind
 * its back is one bad frame, one frame taken is counted too.  Runs
 * anywhere, with or without a save, and before the wait: it tags every
 * free frame with its own salt.
 */
TEST(suspend, tag_check_counts_changed_and_taken_frames)
{
    struct frame_tags t;
    unsigned long checked, bad;
    pfn_t p = frame_alloc();
    uint64_t *va;

    ASSERT_TRUE(!pfn_eq(p, INVALID_PFN));
    frame_free(p);
    frame_tags_write(&t);
    ASSERT_EQ(frame_tags_check(&t, &checked), 0);
    ASSERT_EQ(checked, t.tagged);
    va = directmap_va(p);
    va[255] ^= 1;                   /* the middle word of one free frame */
    bad = frame_tags_check(&t, &checked);
    va[255] ^= 1;
    ASSERT_EQ(bad, 1);
    ASSERT_TRUE(frame_claim(p));    /* taken out of the free set */
    bad = frame_tags_check(&t, &checked);
    frame_free(p);
    ASSERT_EQ(checked, t.tagged - 1);
    ASSERT_EQ(bad, 1);
}

/*
 * Tags the free frames, tells the runner (PVMM-READY, as a held kernel
 * does) and handles its requests until one resume; then prints the
 * "resumed" line the runner waits for.  false if none came in time.
 */
static bool await_one_save(void)
{
    unsigned long n0 = suspend_count();
    uint64_t deadline = time_now_ns() + SAVE_WAIT_NS;

    frame_tags_write(&before.tags);
    printk("PVMM-READY n=%lu\n", n0);
    (void)cons_flush(CONS_RING_WAIT_NS);
    while ( suspend_count() == n0 && time_now_ns() < deadline )
        (void)control_poll(deadline);
    if ( suspend_count() == n0 )
        return false;
    hold_report_resume(&before.tags);
    return true;
}

TEST(suspend, wait_for_a_save)
{
    if ( !boot_opts.await_save || !xs_available() )
        SKIP("no runner saves this guest (await_save, a domU)");
    ASSERT_EQ(build_unpinned_tree(), 0);
    ASSERT_EQ(balloon_release(NR_HOLE, before.hole, &before.nr_hole), 0);
    ASSERT_EQ(before.nr_hole, NR_HOLE);
    before.reservation = reservation();
    shared_pfns(before.shared_pfn);
    before.secondaries = start_secondaries();
    if ( !await_one_save() )
        FAIL("no save or checkpoint came within %lu s",
             SAVE_WAIT_NS / NSEC_PER_SEC);
    before.done = true;
    ASSERT_EQ(suspend_last()->rc, 0);
    printk("suspend: came back %s\n",
           suspend_last()->new_domain ? "in a new domain" : "cancelled");
}

/* Frames first: any later test may allocate and spoil the tags. */
TEST(suspend, free_frames_hold_their_own_pfns_tags)
{
    unsigned long checked, bad;

    if ( no_round() )
        return;
    bad = frame_tags_check(&before.tags, &checked);
    ASSERT_EQ(checked, before.tags.tagged);
    ASSERT_EQ(bad, 0);
    ASSERT_GT(checked, 0);
}

TEST(suspend, p2m_and_xens_m2p_agree_for_every_populated_pfn)
{
    unsigned long pfn, n = 0;
    mfn_t mfn;

    if ( no_round() )
        return;
    for ( pfn = 0; pfn < p2m_size; pfn++ )
    {
        if ( !p2m_is_populated(_pfn(pfn)) )
            continue;
        mfn = pfn_to_mfn(_pfn(pfn));
        if ( p2m_m2p_raw(mfn) != pfn )
            FAIL("pfn %#lx: p2m says mfn %#lx, Xen's M2P says it is pfn "
                 "%#lx", pfn, mfn_x(mfn), p2m_m2p_raw(mfn));
        n++;
    }
    ASSERT_EQ(n, p2m_nr_populated);
    ASSERT_EQ((long)n, reservation());
}

TEST(suspend, kernel_root_is_the_cr3_xen_runs)
{
    if ( no_round() )
        return;
    ASSERT_EQ(read_cr3() >> PAGE_SHIFT, mfn_x(pt_kernel_root()));
}

/* A page of the frame list, found as the tools find it: by mfn. */
static const unsigned long *frame_list_page(unsigned long mfn)
{
    pfn_t pfn = mfn_to_pfn(_mfn(mfn));

    return pfn_eq(pfn, INVALID_PFN) ? NULL : directmap_va(pfn);
}

/*
 * What the tools read, walked from shared_info as they walk it: the top
 * page, its mids, and in them every chunk's leaf, which must be the leaf
 * the hardware maps behind the linear p2m.
 */
TEST(suspend, frame_list_and_p2m_cr3_match_the_linear_p2m)
{
    const struct arch_shared_info *a = &xen_shared_info->arch;
    unsigned long c, chunks = p2m_size / P2M_PER_PAGE;
    const unsigned long *top, *mid;

    if ( no_round() )
        return;
    ASSERT_EQ(a->max_pfn, p2m_size);
    ASSERT_EQ(a->p2m_vaddr, P2M_BASE);
    ASSERT_TRUE(a->p2m_cr3 == 0 || a->p2m_cr3 == read_cr3());
    ASSERT_EQ(a->p2m_generation & 1, 0);
    if ( p2m_size > P2M_FRAME_LIST_PFNS )
        return;                     /* ~0: only the linear list */
    ASSERT_TRUE((top = frame_list_page(a->pfn_to_mfn_frame_list_list)));
    for ( c = 0; c < chunks; c++ )
    {
        mid = frame_list_page(top[c / P2M_PER_PAGE]);
        if ( !mid )
            FAIL("top[%lu] = %#lx is not a frame of ours", c / P2M_PER_PAGE,
                 top[c / P2M_PER_PAGE]);
        if ( mid[c % P2M_PER_PAGE] != mfn_x(p2m_chunk_leaf(c)) )
            FAIL("chunk %#lx: the frame list names %#lx, the linear p2m "
                 "maps %#lx", c, mid[c % P2M_PER_PAGE],
                 mfn_x(p2m_chunk_leaf(c)));
    }
}

TEST(suspend, shared_pages_keep_their_pfns_and_stay_read_only)
{
    const struct p2m_shared_pages *s = p2m_shared_pages();
    pfn_t now[7];
    struct exc_fault f;
    unsigned int i;

    if ( no_round() )
        return;
    shared_pfns(now);
    for ( i = 0; i < 7; i++ )
        ASSERT_EQ(pfn_x(now[i]), pfn_x(before.shared_pfn[i]));
    ASSERT_TRUE(exc_probe_write(directmap_va(mfn_to_pfn(s->missing)), 0,
                                &f));
    ASSERT_TRUE(exc_probe_write(directmap_va(mfn_to_pfn(s->identity)), 0,
                                &f));
    ASSERT_EQ(mfn_x(p2m_chunk_leaf(p2m_size / P2M_PER_PAGE + 1)),
              mfn_x(s->missing));
}

TEST(suspend, unpinned_tree_comes_back_and_xen_accepts_it)
{
    struct exc_fault f;
    uint64_t val = 0;
    bool faulted;
    mfn_t root;

    if ( no_round() )
        return;
    root = pfn_to_mfn(before.root);
    /* mm unpinned it again after the resume, as it found it. */
    ASSERT_EQ(pt_role(before.root) & PT_ROLE_PINNED, 0);
    /* Xen validates every entry: a stale mfn in the tree is refused. */
    ASSERT_EQ(pt_pin(root), 0);
    ASSERT_EQ(pt_switch(root), 0);
    faulted = exc_probe_read((void *)TREE_VA, &val, &f);
    ASSERT_EQ(pt_switch(pt_kernel_root()), 0);
    ASSERT_TRUE(!faulted);
    ASSERT_EQ(val, before.tag);
    ASSERT_EQ(pt_unpin(root), 0);
    ASSERT_EQ(pt_free_tree(root), 0);
    frame_free(before.data);
}

TEST(suspend, ballooned_hole_stays_missing)
{
    unsigned long i, done;

    if ( no_round() )
        return;
    ASSERT_EQ(reservation(), before.reservation);
    for ( i = 0; i < before.nr_hole; i++ )
        ASSERT_EQ(p2m_get_entry(before.hole[i]), INVALID_P2M_ENTRY);
    ASSERT_EQ(balloon_populate_list(before.hole, before.nr_hole, &done), 0);
    ASSERT_EQ(done, before.nr_hole);
    ASSERT_EQ(reservation(), before.reservation + (long)before.nr_hole);
}

TEST(suspend, console_and_xenstore_work_on_the_new_channels)
{
    const struct cons_stats *st = cons_get_stats();
    char buf[16];

    if ( no_round() )
        return;
    printk("suspend: console check line\n");
    ASSERT_EQ(cons_flush(CONS_RING_WAIT_NS), 0);
    ASSERT_TRUE(st->ring);
    ASSERT_GT(xs_read("domid", buf, sizeof(buf)), 0);
    ASSERT_EQ(suspend_last()->store_port_new, xen_start_info->store_evtchn);
    ASSERT_EQ(suspend_last()->console_port_new,
              xen_start_info->console.domU.evtchn);
}

/*
 * Frames above 512 GiB, where the three-level frame list cannot reach:
 * the tools must save and restore this guest through the linear list
 * (p2m_cr3).  Its own round: named in full on the command line (with
 * p2m_list=linear), never by suspend.*, because every pfn below the
 * p2m's size costs the tools 8 bytes of stream and more of memory.
 */
#define FAR_PFN_A   ((1UL << 27) + 0x2345)                  /* 512 GiB + */
#define FAR_PFN_B   ((1UL << 27) + (1UL << 18) + 7)         /* a GiB on */

static uint64_t far_tag(unsigned long pfn)
{
    return pfn * 0xff51afd7ed558ccdUL;
}

static void far_write(const pfn_t *far, unsigned int n)
{
    unsigned int i;
    uint64_t *va;

    for ( i = 0; i < n; i++ )
    {
        va = pmap_map(pfn_to_mfn(far[i]), true);
        va[0] = far_tag(pfn_x(far[i]));
        va[511] = ~far_tag(pfn_x(far[i]));
        pmap_unmap(va);
    }
}

/* The far frames after the round: Xen's M2P, then their content. */
static void far_check(const pfn_t *far, unsigned int n)
{
    unsigned int i;
    uint64_t *va, first, last;
    mfn_t mfn;

    for ( i = 0; i < n; i++ )
    {
        mfn = pfn_to_mfn(far[i]);
        ASSERT_NE(mfn_x(mfn), mfn_x(INVALID_MFN));
        ASSERT_EQ(p2m_m2p_raw(mfn), pfn_x(far[i]));
        va = pmap_map(mfn, false);
        first = va[0];
        last = va[511];
        pmap_unmap(va);
        ASSERT_EQ(first, far_tag(pfn_x(far[i])));
        ASSERT_EQ(last, ~far_tag(pfn_x(far[i])));
    }
}

TEST_EXPLICIT(suspend, far_frames_survive_through_the_linear_list)
{
    const pfn_t far[2] = { _pfn(FAR_PFN_A), _pfn(FAR_PFN_B) };
    const struct arch_shared_info *a = &xen_shared_info->arch;
    pfn_t room[2];
    unsigned long done;

    if ( !boot_opts.await_save || !xs_available() )
        SKIP("no runner saves this guest (await_save, a domU)");
    if ( !a->p2m_cr3 )
        SKIP("the linear list is not published (p2m_list=linear)");
    ASSERT_EQ(balloon_release(2, room, &done), 0);
    ASSERT_EQ(balloon_populate_list(far, 2, &done), 0);
    ASSERT_EQ(done, 2);
    far_write(far, 2);
    ASSERT_GT(a->max_pfn, FAR_PFN_B);
    ASSERT_EQ(a->pfn_to_mfn_frame_list_list, ~0UL);    /* out of reach */
    if ( !await_one_save() )
        FAIL("no save came within %lu s", SAVE_WAIT_NS / NSEC_PER_SEC);
    ASSERT_EQ(suspend_last()->rc, 0);
    ASSERT_EQ(a->p2m_cr3, read_cr3());
    ASSERT_GT(a->max_pfn, FAR_PFN_B);
    far_check(far, 2);
    ASSERT_OK_HELPER();
    ASSERT_EQ(balloon_release_pfns(far, 2, &done), 0);
    ASSERT_EQ(balloon_populate_list(room, 2, &done), 0);
    ASSERT_LT(a->max_pfn, FAR_PFN_A);                   /* trimmed back */
}

static void whoami(void *arg)
{
    *(unsigned int *)arg = smp_vcpu_id();
}

/*
 * The secondaries that were up over the save: the suspend took them all
 * down and brought them all back, Xen says each is up, each has its
 * vcpu_info registered again, runs a call on itself, and has a doorbell
 * that is an IPI channel Xen has bound to it (in a new domain, a new
 * one: the old ones did not survive).
 */
TEST(suspend, secondaries_come_back_and_take_calls)
{
    const struct suspend_report *r;
    unsigned int id, who;

    if ( no_round() )
        return;
    if ( smp_nr_vcpus() < 2 )
        SKIP("1 vCPU: boot with vcpus=2");
    r = suspend_last();
    ASSERT_EQ(r->vcpus_down, before.secondaries);
    ASSERT_EQ(before.secondaries, (1UL << smp_nr_vcpus()) - 2);
    ASSERT_EQ(r->vcpus_back, smp_nr_vcpus() - 1);
    for ( id = 1; id < smp_nr_vcpus(); id++ )
    {
        struct evtchn_status st = { .dom = DOMID_SELF,
                                    .port = smp_call_port(id) };

        ASSERT_EQ(HYPERVISOR_vcpu_op(VCPUOP_is_up, id, NULL), 1);
        /* Registered again: a restored domain's Xen forgot the area. */
        ASSERT_TRUE(smp_vcpu_info(id) != &xen_shared_info->vcpu_info[id]);
        who = ~0U;
        ASSERT_EQ(smp_call(id, whoami, &who, SMP_START_TIMEOUT_NS), 0);
        ASSERT_EQ(who, id);
        ASSERT_EQ(HYPERVISOR_event_channel_op(EVTCHNOP_status, &st), 0);
        ASSERT_EQ(st.status, EVTCHNSTAT_ipi);
        ASSERT_EQ(st.vcpu, id);
        ASSERT_EQ(smp_stop(id), 0);
    }
}
