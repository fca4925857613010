/*
 * The p2m and the pagetables with several vCPUs at once
 * (docs/concurrency.md).
 *
 * The witnesses are what the writing vCPU published after Xen accepted
 * its change (a reader on another vCPU must then see exactly that), the
 * frame list the tools read (it must name the leaf the MMU walks whenever
 * the generation is even and did not move), the faults Xen reports on
 * the vCPU whose TLB should have been flushed, and at the end the
 * auditor and the page counts as they were before.
 */
#include <pvmm/test.h>
#include "smp_helpers.h"
#include "mm_helpers.h"
#include <pvmm/p2m.h>
#include <pvmm/p2m_core.h>
#include <pvmm/p2m_boot.h>
#include <pvmm/pt.h>
#include <pvmm/frame.h>
#include <pvmm/layout.h>
#include <pvmm/traps.h>
#include <pvmm/shared_info.h>
#include <pvmm/printk.h>
#include <pvmm/lib.h>
#include <pvmm/inject.h>
#include <pvmm/multicall.h>
#include <pvmm/balloon.h>
#include <pvmm/hypercall.h>
#include <pvmm/directmap.h>

#define WORK_TIMEOUT_NS     (600 * NSEC_PER_SEC)

/* ---- flushes ---- */

#define FLUSH_VA        0x0000380000000000UL    /* L4 slot 112 */
#define FLUSH_MAGIC     0xf1a5f1a5c0ffee00UL

struct toucher {
    unsigned long va;
    mfn_t root;                     /* the tree to run on while reading */
    unsigned long expect_mask;      /* the vCPUs the flush must name */
    unsigned long warm;             /* set once a read went through */
    unsigned long unmapping;        /* set by vCPU 0 before it unmaps */
    unsigned long go;               /* set by vCPU 0 once it unmapped */
    unsigned long reads;
    bool faulted_early, faulted_after;
    uint64_t last_val;
    struct exc_fault fault;
    int switch_rc;
};

/*
 * Runs on a secondary: keeps va's translation hot in this vCPU's TLB
 * until vCPU 0 has unmapped it, then reads once more.
 */
static void touch_until_unmapped(void *arg)
{
    struct toucher *t = arg;
    uint64_t val;
    struct exc_fault f;

    t->switch_rc = pt_switch(t->root);
    if ( t->switch_rc )
        return;
    while ( !READ_ONCE(t->go) )
    {
        if ( exc_probe_read((const void *)t->va, &val, &f) )
        {
            /* Right once vCPU 0 has begun to unmap; wrong before. */
            t->faulted_early = !READ_ONCE(t->unmapping);
            t->faulted_after = true;
            t->fault = f;
            break;
        }
        t->last_val = val;
        t->reads++;
        WRITE_ONCE(t->warm, 1);
    }
    /* Still no fault: the unmap is done now, so this read must fault. */
    if ( !t->faulted_after &&
         !(t->faulted_after = exc_probe_read((const void *)t->va, &val,
                                             &t->fault)) )
        t->last_val = val;
    t->switch_rc = pt_switch(pt_kernel_root());
}

/* vCPU 1 reads root's va while vCPU 0 unmaps it with pt_unmap_page(). */
static void unmap_under_a_reader(struct toucher *t)
{
    ASSERT_EQ(smp_start(1), 0);
    ASSERT_EQ(smp_post(1, touch_until_unmapped, t), 0);
    ASSERT_TRUE(wait_for_flag(&t->warm, 10 * NSEC_PER_SEC));
    ASSERT_EQ(t->last_val, FLUSH_MAGIC);
    ASSERT_EQ(pt_flush_mask(t->root, t->va), t->expect_mask);
    WRITE_ONCE(t->unmapping, 1);
    ASSERT_EQ(pt_unmap_page(t->root, t->va), 0);
    WRITE_ONCE(t->go, 1);
    ASSERT_EQ(smp_wait(1, 10 * NSEC_PER_SEC), 0);
    ASSERT_EQ(smp_stop(1), 0);
    ASSERT_EQ(t->switch_rc, 0);
    ASSERT_TRUE(!t->faulted_early);
    /* The flush reached vCPU 1: its next read faults, at that address. */
    ASSERT_TRUE(t->faulted_after);
    ASSERT_EQ(t->fault.vector, 14);
    ASSERT_EQ(t->fault.cr2, t->va);
}

/*
 * vCPU 1 reads a page of the kernel half (TLB warm), vCPU 0 unmaps it:
 * every tree shares that slot, so the flush must reach all vCPUs.
 */
TEST(smp, flush_reaches_all)
{
    unsigned long before = frame_free_count();
    struct toucher t = { .va = FLUSH_VA, .root = pt_kernel_root() };
    pfn_t data;
    pte_t l4e;

    if ( !need_secondaries() )
        return;
    data = frame_alloc();
    ASSERT_TRUE(!pfn_eq(data, INVALID_PFN));
    *(uint64_t *)directmap_va(data) = FLUSH_MAGIC;
    ASSERT_EQ(pt_map_page(t.root, t.va, pfn_to_mfn(data),
                          PTE_KERNEL_RO | pte_nx), 0);
    t.expect_mask = (1UL << smp_nr_vcpus()) - 1;
    ASSERT_EQ(pt_flush_mask(t.root, t.va), t.expect_mask);
    unmap_under_a_reader(&t);
    printk("         vCPU 1 read the page %lu times before the unmap\n",
           t.reads);

    l4e = pt_get_entry(t.root, pt_index(t.va, 4));
    mc_request_tlb_flush();
    ASSERT_EQ(pt_set_entry(t.root, pt_index(t.va, 4), 0), 0);
    pt_free_subtree(l4e, 3);
    frame_free(data);
    ASSERT_EQ(frame_free_count(), before);
}

/*
 * A tree's own slot: only the vCPUs running that tree may hold it, so
 * the flush names vCPU 1 (which runs it) and not vCPU 0 (which does not),
 * and vCPU 1 must fault after.
 */
TEST(smp, flush_reaches_the_vcpus_on_the_tree)
{
    unsigned long before = frame_free_count();
    struct toucher t = { .va = FLUSH_VA };
    pfn_t data;

    if ( !need_secondaries() )
        return;
    data = frame_alloc();
    ASSERT_TRUE(!pfn_eq(data, INVALID_PFN));
    *(uint64_t *)directmap_va(data) = FLUSH_MAGIC;
    t.root = pt_alloc(4);
    ASSERT_TRUE(!mfn_eq(t.root, INVALID_MFN));
    ASSERT_EQ(pt_map_page(t.root, t.va, pfn_to_mfn(data),
                          PTE_KERNEL_RO | pte_nx), 0);
    ASSERT_EQ(pt_pin(t.root), 0);
    /* Nobody runs the tree yet: no vCPU can hold its private slot. */
    ASSERT_EQ(pt_flush_mask(t.root, t.va), 0);
    /* The kernel's slots in it: everybody. */
    ASSERT_EQ(pt_flush_mask(t.root, VIRT_BASE),
              (1UL << smp_nr_vcpus()) - 1);

    t.expect_mask = 1UL << 1;
    unmap_under_a_reader(&t);
    ASSERT_EQ(mfn_x(pt_running_root(1)), mfn_x(pt_kernel_root()));

    ASSERT_EQ(pt_unpin(t.root), 0);
    ASSERT_EQ(pt_free_tree(t.root), 0);
    frame_free(data);
    ASSERT_EQ(frame_free_count(), before);
}

/*
 * pt_unmap_page's refusals (runs on one vCPU too): nothing mapped there
 * is -XEN_ENOENT; Xen refusing the PTE write (injected) returns its
 * error, and the page stays mapped and readable; the unmap then works.
 */
TEST(smp, a_refused_unmap_leaves_the_mapping)
{
    const struct inject_rule refuse = { INJECT_MMU_UPDATE, 1,
                                        INJECT_DEFAULT };
    unsigned long before = frame_free_count();
    mfn_t root = pt_alloc(4);
    pfn_t data = frame_alloc();
    struct exc_fault f;
    uint64_t val = 0;

    ASSERT_TRUE(!mfn_eq(root, INVALID_MFN) && !pfn_eq(data, INVALID_PFN));
    *(uint64_t *)directmap_va(data) = FLUSH_MAGIC;
    ASSERT_EQ(pt_map_page(root, FLUSH_VA, pfn_to_mfn(data),
                          PTE_KERNEL_RO | pte_nx), 0);
    ASSERT_EQ(pt_unmap_page(root, FLUSH_VA + PAGE_SIZE), -XEN_ENOENT);
    ASSERT_EQ(pt_pin(root), 0);
    ASSERT_EQ(pt_switch(root), 0);
    inject_arm(&refuse);
    ASSERT_EQ(pt_unmap_page(root, FLUSH_VA), -XEN_EINVAL);
    ASSERT_TRUE(!exc_probe_read((const void *)FLUSH_VA, &val, &f));
    ASSERT_EQ(val, FLUSH_MAGIC);
    ASSERT_EQ(pt_unmap_page(root, FLUSH_VA), 0);
    ASSERT_TRUE(exc_probe_read((const void *)FLUSH_VA, &val, &f));
    ASSERT_EQ(f.cr2, FLUSH_VA);
    ASSERT_EQ(pt_switch(pt_kernel_root()), 0);
    ASSERT_EQ(pt_unpin(root), 0);
    ASSERT_EQ(pt_free_tree(root), 0);
    frame_free(data);
    ASSERT_EQ(frame_free_count(), before);
}

/* ---- the p2m: readers against writers ---- */

/*
 * Rounds in all, shared among the writers (each round sets and clears one
 * or two pfns).  Under TCG on 2 host cores: 9,000 with one writer take
 * about 11 s; with 3 writers on 4 vCPUs (oversubscribed: a vCPU spins on
 * a lock whose holder is not running) they took 45-119 s, so 3,000.
 */
#define TORN_ROUNDS_ONE     9000
#define TORN_ROUNDS_MANY    3000
#define TORN_ROUNDS(n)      ((n) == 1 ? TORN_ROUNDS_ONE : TORN_ROUNDS_MANY)
#define TORN_SPAN           (4 * P2M_PER_PAGE)  /* pfns: 4 chunks */
/* Writer i owns the pfns i, i + 4, i + 8, ... of the span. */
#define TORN_STRIDE         4
#define TORN_MAX_WRITERS    3

/*
 * What one writer has set, published around each p2m_set() like a
 * seqlock: seq is odd only while these words change, never during the
 * p2m_set() itself.  While `busy`, pfn `pending` goes from `from` to `to`.
 */
struct torn_writer {
    unsigned long seq;
    unsigned long held_pfn[2], held_val[2];     /* ~0UL: nothing held */
    bool busy;
    unsigned long pending, from, to;
    /* the writer's own results */
    unsigned long first_pfn;        /* the span's first + the writer's index */
    unsigned long rounds, lock_free_rounds;
    int rc;
    unsigned long rc_pfn;
    unsigned long started, finished;
};

static struct torn_writer torn_writers[TORN_MAX_WRITERS];

/* Far past memory: identity for dom0, missing for a domU. */
static unsigned long unwritten_entry(unsigned long pfn)
{
    return xen_is_dom0() ? IDENTITY_FRAME(pfn) : INVALID_P2M_ENTRY;
}

/* A fake frame that names its pfn and round, so a misplaced one shows. */
static unsigned long torn_tag(unsigned long pfn, unsigned long round)
{
    return (1UL << 40) | ((pfn & 0xffffffUL) << 8) | (round & 0xff);
}

static void torn_publish(struct torn_writer *w, bool busy, unsigned long pfn,
                         unsigned long from, unsigned long to)
{
    WRITE_ONCE(w->seq, w->seq + 1);
    wmb();
    w->busy = busy;
    w->pending = pfn;
    w->from = from;
    w->to = to;
    wmb();
    WRITE_ONCE(w->seq, w->seq + 1);
}

/* Sets slot's pfn to val, publishing before and after. */
static bool torn_change(struct torn_writer *w, unsigned int slot,
                        unsigned long pfn, unsigned long val)
{
    unsigned long from = unwritten_entry(pfn);
    unsigned int i;
    int rc;

    for ( i = 0; i < 2; i++ )
        if ( w->held_pfn[i] == pfn )
            from = w->held_val[i];
    torn_publish(w, true, pfn, from, val);
    rc = p2m_set(_pfn(pfn), val);
    if ( !rc && p2m_get_entry(_pfn(pfn)) != val )
        rc = -XEN_EIO;              /* its own write must read back */
    if ( rc )
    {
        w->rc = rc;
        w->rc_pfn = pfn;
        return false;
    }
    WRITE_ONCE(w->seq, w->seq + 1);
    wmb();
    if ( w->held_pfn[!slot] == pfn )        /* one slot per pfn */
        w->held_pfn[!slot] = ~0UL;
    w->held_pfn[slot] = pfn;
    w->held_val[slot] = val;
    w->busy = false;
    wmb();
    WRITE_ONCE(w->seq, w->seq + 1);
    return true;
}

static unsigned long torn_hash(unsigned long x)
{
    x ^= x >> 31;
    x *= 0x7fb5d329728ea185UL;
    x ^= x >> 27;
    return x;
}

/*
 * A writer: each round sets one of its pfns (the chunk goes private: a
 * leaf, maybe an L1 and the L2) and clears it (what nothing else holds
 * collapses); every other round it also sets and clears a second pfn of
 * its own in the same chunk while the first holds it private: the store
 * p2m_set() makes without the lock.  The writers share the chunks, so
 * one's lock-free store races another's collapse.
 */
static void torn_write(void *arg)
{
    struct torn_writer *w = arg;
    unsigned long r, p, q;

    WRITE_ONCE(w->started, 1);
    for ( r = 0; r < w->rounds; r++ )
    {
        p = w->first_pfn + torn_hash(r) % (TORN_SPAN / TORN_STRIDE) *
                           TORN_STRIDE;
        q = p - p % P2M_PER_PAGE +
            (p + TORN_STRIDE * (1 + torn_hash(~r) % 127)) % P2M_PER_PAGE;
        if ( !torn_change(w, 0, p, torn_tag(p, r)) )
            break;
        if ( (r & 1) && q != p )
        {
            if ( !torn_change(w, 1, q, torn_tag(q, r)) ||
                 !torn_change(w, 1, q, unwritten_entry(q)) )
                break;
            w->lock_free_rounds++;
        }
        if ( !torn_change(w, 0, p, unwritten_entry(p)) )
            break;
    }
    WRITE_ONCE(w->finished, 1);
}

struct torn_reader {
    unsigned long reads, retried, checked_lists, odd_seen;
    unsigned long bad, bad_pfn, bad_val, bad_lo, bad_hi;
    unsigned long list_bad, list_chunk, list_walked, list_read;
};

/* What pfn must read, given w's published state: [*lo, *hi] as values. */
static void torn_expect(const struct torn_writer *s, unsigned long pfn,
                        unsigned long *lo, unsigned long *hi)
{
    unsigned int i;

    *lo = *hi = unwritten_entry(pfn);
    for ( i = 0; i < 2; i++ )
        if ( s->held_pfn[i] == pfn )
            *lo = *hi = s->held_val[i];
    if ( s->busy && s->pending == pfn )
    {
        *lo = s->from;
        *hi = s->to;
    }
}

/* One read of pfn against writer w's published state; false to retry. */
static bool torn_read_one(struct torn_reader *rd, struct torn_writer *w,
                          unsigned long pfn)
{
    struct torn_writer snap;
    unsigned long s1 = READ_ONCE(w->seq), v, lo, hi;

    if ( s1 & 1 )
        return false;
    rmb();
    snap = *w;
    rmb();
    v = p2m_get_entry(_pfn(pfn));
    rmb();
    if ( READ_ONCE(w->seq) != s1 )
        return false;
    torn_expect(&snap, pfn, &lo, &hi);
    rd->reads++;
    if ( v != lo && v != hi && !rd->bad++ )
    {
        rd->bad_pfn = pfn;
        rd->bad_val = v;
        rd->bad_lo = lo;
        rd->bad_hi = hi;
    }
    return true;
}

/*
 * With the generation even and unchanged around it, the frame list the
 * tools read names the very leaf the MMU walks for chunk c.
 */
static void torn_check_list(struct torn_reader *rd, unsigned long c)
{
    const volatile unsigned long *gen = &xen_shared_info->arch.p2m_generation;
    unsigned long g1 = *gen;
    mfn_t walked, listed;

    if ( g1 & 1 )
    {
        rd->odd_seen++;
        return;
    }
    rmb();
    walked = p2m_chunk_leaf(c);
    listed = p2m_frames_leaf(c);
    rmb();
    if ( *gen != g1 )
        return;
    rd->checked_lists++;
    if ( !mfn_eq(walked, listed) && !rd->list_bad++ )
    {
        rd->list_chunk = c;
        rd->list_walked = mfn_x(walked);
        rd->list_read = mfn_x(listed);
    }
}

static bool torn_all_finished(unsigned int n)
{
    unsigned int i;

    for ( i = 0; i < n; i++ )
        if ( !READ_ONCE(torn_writers[i].finished) )
            return false;
    return true;
}

/*
 * vCPU 0: random pfns of the writers' ranges until every writer is done
 * (or the deadline passed: the test then fails on the writers' counts).
 */
static void torn_read(struct torn_reader *rd, unsigned int n)
{
    uint64_t deadline = time_now_ns() + WORK_TIMEOUT_NS;
    unsigned long x = 1, pfn;
    struct torn_writer *w;

    while ( !torn_all_finished(n) )
    {
        if ( !(rd->reads & 0xfff) && time_now_ns() > deadline )
            return;
        x = torn_hash(x + 0x9e3779b97f4a7c15UL);
        w = &torn_writers[x % n];
        /* Half the reads where the writer is now, half anywhere. */
        pfn = (x >> 8) & 1 ? READ_ONCE(w->held_pfn[0])
                           : w->first_pfn + (x >> 16) % TORN_SPAN;
        if ( pfn == ~0UL )
            pfn = w->first_pfn;
        pfn -= (pfn - w->first_pfn) % TORN_STRIDE;  /* one of w's own */
        if ( !torn_read_one(rd, w, pfn) )
            rd->retried++;
        if ( !(x & 7) )
            torn_check_list(rd, pfn / P2M_PER_PAGE);
    }
}

static void torn_start(unsigned int n, unsigned long base)
{
    unsigned int i;

    for ( i = 0; i < n; i++ )
    {
        torn_writers[i] = (struct torn_writer){
            .held_pfn = { ~0UL, ~0UL },
            .first_pfn = base + i, .rounds = TORN_ROUNDS(n) / n,
        };
        ASSERT_EQ(smp_start(i + 1), 0);
        ASSERT_EQ(smp_post(i + 1, torn_write, &torn_writers[i]), 0);
    }
}

static void torn_check_writers(unsigned int n)
{
    unsigned int i;

    for ( i = 0; i < n; i++ )
    {
        struct torn_writer *w = &torn_writers[i];

        ASSERT_EQ(smp_wait(i + 1, WORK_TIMEOUT_NS), 0);
        ASSERT_EQ(smp_stop(i + 1), 0);
        if ( w->rc )
            printk("         writer %u: p2m_set(%#lx) failed: %d\n", i + 1,
                   w->rc_pfn, w->rc);
        ASSERT_EQ(w->rc, 0);
        ASSERT_EQ(w->finished, 1);
        ASSERT_TRUE(w->lock_free_rounds > 0);
    }
}

/*
 * 1 to 3 secondaries set and clear pfns of their own in 4 shared chunks,
 * each round giving a chunk a private leaf (and L1, and L2) and
 * collapsing it again, while vCPU 0 reads random pfns of theirs: every answer
 * must be a value the pfn held, and once a writer has published a value
 * as set, exactly that.  A reader whose TLB a flush missed reads the old
 * shared page, or a freed leaf, and fails here.
 */
TEST(smp, p2m_readers_see_no_torn_state)
{
    unsigned long base = ROUNDUP(p2m_size, GIB_PFNS) + GIB_PFNS;
    unsigned long kept0 = free_or_kept(), gen0, t0, i, sets = 0, lf = 0;
    struct torn_reader rd = { 0 };
    struct p2m_stats s0, s1;
    unsigned int n;

    if ( !need_secondaries() )
        return;
    n = MIN(smp_nr_vcpus() - 1, TORN_MAX_WRITERS);
    p2m_get_stats(&s0);
    gen0 = xen_shared_info->arch.p2m_generation;
    t0 = time_now_ns();
    torn_start(n, base);
    torn_read(&rd, n);
    torn_check_writers(n);
    for ( i = 0; i < n; i++ )
    {
        lf += torn_writers[i].lock_free_rounds;
        sets += 2 * (torn_writers[i].rounds + torn_writers[i].lock_free_rounds);
    }
    printk("         %u writer(s), %lu p2m_sets (%lu lock-free stores) in "
           "%lu ms; %lu reads checked, %lu retried, %lu frame-list checks, "
           "generation odd at %lu\n", n, sets, lf,
           (unsigned long)((time_now_ns() - t0) / NSEC_PER_MSEC), rd.reads,
           rd.retried, rd.checked_lists, rd.odd_seen);
    if ( rd.bad )
        printk("         %lu bad reads; first: pfn %#lx read %#lx, "
               "expected %#lx or %#lx\n", rd.bad, rd.bad_pfn, rd.bad_val,
               rd.bad_lo, rd.bad_hi);
    if ( rd.list_bad )
        printk("         %lu frame-list mismatches; first: chunk %#lx "
               "walked %#lx listed %#lx\n", rd.list_bad, rd.list_chunk,
               rd.list_walked, rd.list_read);
    ASSERT_EQ(rd.bad, 0);
    ASSERT_EQ(rd.list_bad, 0);
    ASSERT_TRUE(rd.reads > 0 && rd.checked_lists > 0);
    /*
     * The tools saw the changes: the generation is even again, and with
     * one writer every round privatised a chunk and collapsed it (with
     * more, a chunk stays private while another writer holds a pfn).
     */
    gen0 = xen_shared_info->arch.p2m_generation - gen0;
    printk("         the generation moved by %lu\n", gen0);
    ASSERT_EQ(gen0 % 2, 0);
    ASSERT_TRUE(gen0 >= (n == 1 ? 4UL * TORN_ROUNDS_ONE : 4));

    /* Nothing left behind: the structure and the pages as before. */
    p2m_trim();
    p2m_get_stats(&s1);
    ASSERT_EQ(s1.size, s0.size);
    ASSERT_EQ(s1.populated, s0.populated);
    ASSERT_EQ(s1.private_leaves, s0.private_leaves);
    ASSERT_EQ(s1.private_l1, s0.private_l1);
    ASSERT_EQ(s1.private_l2, s0.private_l2);
    ASSERT_EQ(free_or_kept(), kept0);
    ASSERT_EQ(p2m_audit(), 0);
}

/* ---- the balloon on two vCPUs at once ---- */

/* Xen's count of this domain's pages. */
static long reservation(void)
{
    domid_t self = DOMID_SELF;

    return HYPERVISOR_memory_op(XENMEM_current_reservation, &self);
}

#define BALLOON_PAGES       256
#define BALLOON_ROUNDS      4

struct ballooner {
    pfn_t own[BALLOON_PAGES];       /* what its own rounds released */
    pfn_t handed[BALLOON_PAGES];    /* pfns vCPU 0 hands it to release */
    unsigned long moved;            /* frames its rounds moved each way */
    unsigned long released, populated;
    unsigned long rounds_done, handed_out, released_flag, go;
    int rc;
};

static struct ballooner ballooners[2];

/* Spins (a sleep may reload this vCPU's cr3 and so hide a missing flush). */
static bool spin_for_flag(const unsigned long *flag)
{
    uint64_t deadline = time_now_ns() + WORK_TIMEOUT_NS;

    while ( !READ_ONCE(*flag) )
    {
        if ( time_now_ns() > deadline )
            return false;
        asm volatile ( "pause" ::: "memory" );
    }
    return true;
}

/* Out to Xen and back, BALLOON_ROUNDS times. */
static int balloon_rounds(struct ballooner *b)
{
    unsigned long done, r;
    int rc = 0;

    for ( r = 0; !rc && r < BALLOON_ROUNDS; r++ )
    {
        rc = balloon_release(BALLOON_PAGES, b->own, &done);
        b->moved += done;
        if ( !rc )
            rc = balloon_populate_list(b->own, done, &done);
        b->moved += done;
    }
    return rc;
}

/*
 * vCPU 1: its own rounds while vCPU 0 does its own; then it releases the
 * pfns vCPU 0 hands it (vCPU 0 has read them all, so its TLB holds
 * them), waits until vCPU 0 has checked they are gone, and populates
 * them again.
 */
static void balloon_on_vcpu1(void *arg)
{
    struct ballooner *b = arg;
    unsigned long done;

    b->rc = balloon_rounds(b);
    WRITE_ONCE(b->rounds_done, 1);
    if ( b->rc || !spin_for_flag(&b->handed_out) )
        return;
    b->rc = balloon_release_pfns(b->handed, BALLOON_PAGES, &done);
    b->released = done;
    WRITE_ONCE(b->released_flag, 1);
    if ( b->rc || !spin_for_flag(&b->go) )
        return;
    b->rc = balloon_populate_list(b->handed, BALLOON_PAGES, &done);
    b->populated = done;
}

/* pfn's frame, per Xen's M2P, maps back to pfn; and it takes a store. */
static bool backed_and_mapped(pfn_t pfn)
{
    mfn_t m = pfn_to_mfn(pfn);
    struct exc_fault f;
    uint64_t val;

    if ( mfn_eq(m, INVALID_MFN) || p2m_m2p_raw(m) != pfn_x(pfn) )
        return false;
    if ( exc_probe_write(directmap_va(pfn), 0x6a11007UL, &f) ||
         exc_probe_read(directmap_va(pfn), &val, &f) )
        return false;
    return val == 0x6a11007UL;
}

/* Gives vCPU 1 pfns to release, each read once so this TLB holds it. */
static void balloon_hand_out(struct ballooner *b)
{
    struct exc_fault f;
    uint64_t val;
    unsigned int i;

    for ( i = 0; i < BALLOON_PAGES; i++ )
    {
        b->handed[i] = frame_alloc();
        ASSERT_TRUE(!pfn_eq(b->handed[i], INVALID_PFN));
        ASSERT_TRUE(!exc_probe_read(directmap_va(b->handed[i]), &val, &f));
    }
    WRITE_ONCE(b->handed_out, 1);
}

/* How many of vCPU 1's released pfns still read through this TLB. */
static unsigned long still_readable(const struct ballooner *b)
{
    struct exc_fault f;
    uint64_t val;
    unsigned long n = 0, i;

    for ( i = 0; i < BALLOON_PAGES; i++ )
        n += !exc_probe_read(directmap_va(b->handed[i]), &val, &f);
    return n;
}

/*
 * vCPU 0 and vCPU 1 release and populate at once, each its own frames;
 * then vCPU 1 releases pfns vCPU 0 has just read.  At the end Xen's
 * reservation, the allocator, the p2m's counts and the auditor must be
 * as before, every pfn backed (Xen's M2P agrees) and writable, and vCPU
 * 1's release must have reached vCPU 0's TLB: none of those pfns reads
 * between the release and the populate.
 */
TEST(smp, balloon_concurrent)
{
    struct ballooner *b0 = &ballooners[0], *b1 = &ballooners[1];
    unsigned long kept0 = free_or_kept(), readable, i;
    long res0 = reservation();
    struct p2m_stats s0, s1;
    int rc0;

    if ( !need_secondaries() )
        return;
    *b0 = (struct ballooner){ .rc = 0 };
    *b1 = (struct ballooner){ .rc = 0 };
    p2m_get_stats(&s0);
    ASSERT_EQ(smp_start(1), 0);
    ASSERT_EQ(smp_post(1, balloon_on_vcpu1, b1), 0);
    rc0 = balloon_rounds(b0);
    ASSERT_TRUE(spin_for_flag(&b1->rounds_done));
    balloon_hand_out(b1);
    ASSERT_TRUE(spin_for_flag(&b1->released_flag));
    readable = still_readable(b1);
    WRITE_ONCE(b1->go, 1);
    ASSERT_EQ(smp_wait(1, WORK_TIMEOUT_NS), 0);
    ASSERT_EQ(smp_stop(1), 0);

    ASSERT_EQ(rc0, 0);
    ASSERT_EQ(b1->rc, 0);
    ASSERT_EQ(b0->moved, 2UL * BALLOON_PAGES * BALLOON_ROUNDS);
    ASSERT_EQ(b1->moved, 2UL * BALLOON_PAGES * BALLOON_ROUNDS);
    ASSERT_EQ(b1->released, BALLOON_PAGES);
    ASSERT_EQ(b1->populated, BALLOON_PAGES);
    ASSERT_EQ(readable, 0);
    for ( i = 0; i < BALLOON_PAGES; i++ )
        ASSERT_TRUE(backed_and_mapped(b1->handed[i]));
    p2m_trim();
    p2m_get_stats(&s1);
    ASSERT_EQ(s1.populated, s0.populated);
    ASSERT_EQ(reservation(), res0);
    ASSERT_EQ(free_or_kept(), kept0);
    ASSERT_EQ(p2m_audit(), 0);
}

/* ---- pin, switch, unpin on several vCPUs ---- */

/*
 * Trees in all, shared among the vCPUs: 10,000 on 2 vCPUs (7.9 s under
 * TCG); on more, oversubscribed on 2 host cores, 10,000 took 87 s.
 */
#define RACE_TREES(n)   ((n) <= 2 ? 10000 : 2000)
#define RACE_VA         0x0000200000000000UL    /* L4 slot 64: private */
#define RACE_MAX_VCPUS  4

struct racer {
    pfn_t data;                     /* what its trees map at RACE_VA */
    uint64_t tag;
    unsigned long rounds, target, wrong_reads, wrong_root;
    int rc;
    const char *step;
};

static struct racer racers[RACE_MAX_VCPUS];

static bool race_failed(struct racer *r, int rc, const char *step)
{
    if ( !rc )
        return false;
    r->rc = rc;
    r->step = step;
    return true;
}

/* One tree: built, pinned, run on, left, unpinned and freed. */
static bool race_round(struct racer *r)
{
    mfn_t root = pt_alloc(4);
    struct exc_fault f;
    uint64_t val = 0;

    if ( mfn_eq(root, INVALID_MFN) )
        return !race_failed(r, -XEN_ENOMEM, "pt_alloc");
    if ( race_failed(r, pt_map_page(root, RACE_VA, pfn_to_mfn(r->data),
                                    PTE_KERNEL_RO | pte_nx), "map") ||
         race_failed(r, pt_pin(root), "pin") ||
         race_failed(r, pt_switch(root), "switch") )
        return false;
    if ( exc_probe_read((const void *)RACE_VA, &val, &f) || val != r->tag )
        r->wrong_reads++;
    if ( !mfn_eq(pt_running_root(smp_vcpu_id()), root) )
        r->wrong_root++;
    return !race_failed(r, pt_switch(pt_kernel_root()), "switch back") &&
           !race_failed(r, pt_unpin(root), "unpin") &&
           !race_failed(r, pt_free_tree(root), "free");
}

static void race(void *arg)
{
    struct racer *r = arg;

    while ( r->rounds < r->target && race_round(r) )
        r->rounds++;
}

/* Pfns with a pagetable role, and free frames some alias maps read-only. */
static void race_leaks(unsigned long *tables, unsigned long *ro_free)
{
    unsigned long pfn;

    *tables = *ro_free = 0;
    for ( pfn = 0; pfn < frame_total(); pfn++ )
    {
        *tables += (pt_role(_pfn(pfn)) & PT_ROLE_LEVEL_MASK) != 0;
        *ro_free += frame_is_free(_pfn(pfn)) &&
                    pt_any_alias_read_only(_pfn(pfn));
    }
}

/*
 * Every vCPU (up to 4) builds, pins, switches to, reads through, leaves,
 * unpins and frees trees of its own that share the kernel half, over and
 * over, all at once.  Each read must see its own vCPU's page; at the end
 * no frame, no pagetable role and no read-only alias of a free frame is
 * left over.
 */
TEST(smp, pin_unpin_race)
{
    unsigned long free0 = frame_free_count(), tables0, ro0, tables1, ro1;
    unsigned int n = MIN(smp_nr_vcpus(), RACE_MAX_VCPUS), i;
    uint64_t t0 = time_now_ns();

    if ( !need_secondaries() )
        return;
    race_leaks(&tables0, &ro0);
    for ( i = 0; i < n; i++ )
    {
        racers[i] = (struct racer){ .data = frame_alloc(),
                                    .tag = 0x7ace0000UL + i, .step = "",
                                    .target = RACE_TREES(n) / n };
        ASSERT_TRUE(!pfn_eq(racers[i].data, INVALID_PFN));
        *(uint64_t *)directmap_va(racers[i].data) = racers[i].tag;
    }
    for ( i = 1; i < n; i++ )
    {
        ASSERT_EQ(smp_start(i), 0);
        ASSERT_EQ(smp_post(i, race, &racers[i]), 0);
    }
    race(&racers[0]);
    for ( i = 1; i < n; i++ )
    {
        ASSERT_EQ(smp_wait(i, WORK_TIMEOUT_NS), 0);
        ASSERT_EQ(smp_stop(i), 0);
    }
    printk("         %u vCPUs, %u trees each in %lu ms\n", n,
           RACE_TREES(n) / n,
           (unsigned long)((time_now_ns() - t0) / NSEC_PER_MSEC));
    for ( i = 0; i < n; i++ )
    {
        if ( racers[i].rc )
            printk("         vCPU %u: %s failed: %d\n", i, racers[i].step,
                   racers[i].rc);
        ASSERT_EQ(racers[i].rc, 0);
        ASSERT_EQ(racers[i].rounds, RACE_TREES(n) / n);
        ASSERT_EQ(racers[i].wrong_reads, 0);
        ASSERT_EQ(racers[i].wrong_root, 0);
        frame_free(racers[i].data);
    }
    race_leaks(&tables1, &ro1);
    ASSERT_EQ(tables1, tables0);
    ASSERT_EQ(ro1, ro0);
    ASSERT_EQ(frame_free_count(), free0);
}

struct pin_flipper {
    mfn_t root;
    unsigned long rounds;
    int rc;
};

/* Pins and unpins one tree, as often as the other vCPU does. */
static void pin_flip(void *arg)
{
    struct pin_flipper *p = arg;
    int rc = 0;

    for ( ; !rc && p->rounds < 2000; p->rounds++ )
    {
        rc = pt_pin(p->root);
        rc = rc ? rc : pt_unpin(p->root);
    }
    p->rc = rc;
}

/*
 * One tree pinned and unpinned by two vCPUs at once: each call must
 * succeed (pin and unpin are idempotent, and serialised per tree), and
 * after the last unpin the tree's pages are writable again (Xen lets us
 * store into its root through the direct map) and nothing leaked.
 */
TEST(smp, pin_unpin_one_tree_from_two_vcpus)
{
    unsigned long free0 = frame_free_count(), tables0, ro0, tables1, ro1;
    struct pin_flipper a = { .rc = 0 }, b = { .rc = 0 };
    pfn_t data = frame_alloc();
    struct exc_fault f;
    uint64_t *e0;

    if ( !need_secondaries() )
    {
        frame_free(data);
        return;
    }
    race_leaks(&tables0, &ro0);
    a.root = b.root = pt_alloc(4);
    ASSERT_TRUE(!mfn_eq(a.root, INVALID_MFN) && !pfn_eq(data, INVALID_PFN));
    ASSERT_EQ(pt_map_page(a.root, RACE_VA, pfn_to_mfn(data),
                          PTE_KERNEL_RO | pte_nx), 0);
    ASSERT_EQ(smp_start(1), 0);
    ASSERT_EQ(smp_post(1, pin_flip, &b), 0);
    pin_flip(&a);
    ASSERT_EQ(smp_wait(1, WORK_TIMEOUT_NS), 0);
    ASSERT_EQ(smp_stop(1), 0);
    ASSERT_EQ(a.rc, 0);
    ASSERT_EQ(b.rc, 0);
    ASSERT_EQ(pt_unpin(a.root), 0);
    e0 = directmap_va(mfn_to_pfn(a.root));
    ASSERT_TRUE(!exc_probe_write(e0, *e0, &f));
    ASSERT_EQ(pt_free_tree(a.root), 0);
    frame_free(data);
    race_leaks(&tables1, &ro1);
    ASSERT_EQ(tables1, tables0);
    ASSERT_EQ(ro1, ro0);
    ASSERT_EQ(frame_free_count(), free0);
}

/* ---- the auditor with the others parked ---- */

#define AUDITS      10

struct churner {
    unsigned long first_pfn, ops, stop;
    int rc;
};

static struct churner churners[TORN_MAX_WRITERS];

/* Sets and clears its pfns until told to stop, parking when asked. */
static void churn(void *arg)
{
    struct churner *c = arg;
    unsigned long r, p;
    int rc = 0;

    for ( r = 0; !rc && !READ_ONCE(c->stop); r++ )
    {
        p = c->first_pfn + torn_hash(r) % (TORN_SPAN / TORN_STRIDE) *
                           TORN_STRIDE;
        rc = p2m_set(_pfn(p), torn_tag(p, r));
        if ( !rc )
            rc = p2m_set(_pfn(p), unwritten_entry(p));
        WRITE_ONCE(c->ops, c->ops + 2);
        smp_park_point();
    }
    c->rc = rc;
}

/* Waits (spinning) until every churner has done some more work. */
static bool churners_moved(unsigned int n, const unsigned long *before)
{
    uint64_t deadline = time_now_ns() + 10 * NSEC_PER_SEC;
    unsigned int i;

    for ( i = 0; i < n; i++ )
        while ( READ_ONCE(churners[i].ops) == before[i] )
            if ( time_now_ns() > deadline )
                return false;
    return true;
}

/*
 * Secondaries change the p2m without pause; vCPU 0 parks them, runs the
 * auditor, and lets them go, AUDITS times.  While they are parked
 * nothing moves (their op counts and the generation stay put) and the
 * auditor finds nothing; in between they make progress.
 */
TEST(smp, auditor_runs_with_others_parked)
{
    unsigned long base = ROUNDUP(p2m_size, GIB_PFNS) + GIB_PFNS;
    unsigned long ops[TORN_MAX_WRITERS], gen, a, i, kept0 = free_or_kept();
    unsigned int n;
    int audit_rc = 0;

    if ( !need_secondaries() )
        return;
    n = MIN(smp_nr_vcpus() - 1, TORN_MAX_WRITERS);
    for ( i = 0; i < n; i++ )
    {
        churners[i] = (struct churner){ .first_pfn = base + i };
        ASSERT_EQ(smp_start(i + 1), 0);
        ASSERT_EQ(smp_post(i + 1, churn, &churners[i]), 0);
    }
    for ( a = 0; a < AUDITS && !audit_rc; a++ )
    {
        for ( i = 0; i < n; i++ )
            ops[i] = READ_ONCE(churners[i].ops);
        ASSERT_TRUE(churners_moved(n, ops));
        ASSERT_EQ(smp_quiesce(10 * NSEC_PER_SEC), 0);
        for ( i = 0; i < n; i++ )
            ops[i] = READ_ONCE(churners[i].ops);
        gen = xen_shared_info->arch.p2m_generation;
        audit_rc = p2m_audit();
        ASSERT_EQ(xen_shared_info->arch.p2m_generation, gen);
        for ( i = 0; i < n; i++ )
            ASSERT_EQ(READ_ONCE(churners[i].ops), ops[i]);
        smp_unquiesce();
    }
    for ( i = 0; i < n; i++ )
    {
        WRITE_ONCE(churners[i].stop, 1);
        ASSERT_EQ(smp_wait(i + 1, WORK_TIMEOUT_NS), 0);
        ASSERT_EQ(smp_stop(i + 1), 0);
        ASSERT_EQ(churners[i].rc, 0);
    }
    ASSERT_EQ(audit_rc, 0);
    p2m_trim();
    ASSERT_EQ(free_or_kept(), kept0);
    ASSERT_EQ(p2m_audit(), 0);
}
