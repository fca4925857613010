/*
 * The fault-injection sweep (pvmm/inject.h): each public mm operation is
 * run with a failure at each of its hypercall and allocation sites in
 * turn.  For an operation and a kind, N counts up from 1: arm the Nth
 * call of that kind, run the operation, disarm.  An injection that did not
 * fire means the operation makes fewer than N such calls: on to the next
 * kind.  One that fired is checked:
 *
 *  - the operation returned an error, or an exact partial count;
 *  - the p2m auditor is clean;
 *  - nothing is lost: Xen's own count of the domain's pages (the
 *    reservation) less the free frames, the p2m's own pages and the
 *    frames at far pfns is what it was before the operation;
 *  - what the kernel believes matches what Xen has: a released pfn is not
 *    readable, a populated one is; a table the roles call read-only cannot
 *    be written; a tree the roles call unpinned is not pinned in Xen;
 *
 * then the operation's work is undone without injection and the baseline
 * must come back exactly.  The last test prints the totals.
 */
#include <pvmm/test.h>
#include <pvmm/inject.h>
#include <pvmm/balloon.h>
#include <pvmm/frame.h>
#include <pvmm/p2m_boot.h>
#include <pvmm/pt.h>
#include <pvmm/frame_map.h>
#include <pvmm/pte.h>
#include <pvmm/hypercall.h>
#include <pvmm/traps.h>
#include <pvmm/printk.h>
#include <pvmm/lib.h>

#define NR_FRAMES       4
#define NR_FAR          2
#define MAX_N           200     /* no operation here makes more calls */
#define TEST_VA         0x0000100000000000UL

static unsigned long injected, survived;

static const enum inject_kind balloon_kinds[] = {
    INJECT_MMU_UPDATE, INJECT_MMUEXT_OP, INJECT_MC_ENTRY,
    INJECT_POPULATE, INJECT_DECREASE, INJECT_FRAME_ALLOC,
};
static const enum inject_kind pt_kinds[] = {
    INJECT_MMU_UPDATE, INJECT_MMUEXT_OP, INJECT_MC_ENTRY, INJECT_FRAME_ALLOC,
};

static long reservation(void)
{
    domid_t self = DOMID_SELF;

    return HYPERVISOR_memory_op(XENMEM_current_reservation, &self);
}

static unsigned long p2m_pages(void)
{
    struct p2m_stats s;

    p2m_get_stats(&s);
    return s.private_leaves + s.private_l1 + s.private_l2 +
           s.frame_list_pages;
}

/* Pages Xen counts as ours that are neither free nor the p2m's. */
static long ledger(unsigned long far_populated)
{
    return reservation() - (long)frame_free_count() - (long)p2m_pages() -
           (long)far_populated;
}

static bool readable(pfn_t pfn)
{
    struct exc_fault f;
    uint64_t v;

    return !exc_probe_read(directmap_va(pfn), &v, &f);
}

static unsigned long count_populated(const pfn_t *pfns, unsigned long n)
{
    unsigned long i, k = 0;

    for ( i = 0; i < n; i++ )
        k += p2m_is_populated(pfns[i]);
    return k;
}

/* Arms the nth call of kind; true if it fired during op. */
static void arm(enum inject_kind kind, unsigned long nth)
{
    struct inject_rule r = { kind, nth, INJECT_DEFAULT };

    inject_arm(&r);
}

static bool disarm(unsigned long fired_before)
{
    inject_disarm_all();
    return inject_fired_total() != fired_before;
}

/* Far pfns in an empty 512 GiB region: p2m_set must build L2, L1, leaf. */
static void far_pfns(pfn_t far[NR_FAR])
{
    unsigned long base = ROUNDUP(p2m_size, 1UL << 27) + (1UL << 27);

    far[0] = _pfn(base + 17);
    far[1] = _pfn(base + 3 * GIB_PFNS + 5);
}

/* ---- balloon release ---------------------------------------------- */

static void release_once(enum inject_kind kind, unsigned long nth,
                         bool *fired)
{
    pfn_t pfns[NR_FRAMES];
    long before = ledger(0), res0 = reservation();
    unsigned long pop0 = p2m_nr_populated, free0 = frame_free_count();
    unsigned long done, i, fired0 = inject_fired_total();
    int rc;

    arm(kind, nth);
    rc = balloon_release(NR_FRAMES, pfns, &done);
    if ( !(*fired = disarm(fired0)) )
    {
        ASSERT_EQ(rc, 0);
    }
    ASSERT_TRUE(rc == 0 ? done == NR_FRAMES : rc < 0 && done < NR_FRAMES);
    if ( *fired && kind == INJECT_DECREASE )
        ASSERT_EQ(done, NR_FRAMES / 2);     /* the short count, exactly */
    ASSERT_EQ(reservation(), res0 - (long)done);
    ASSERT_EQ(p2m_nr_populated, pop0 - done);
    ASSERT_EQ(ledger(0), before);
    ASSERT_EQ(p2m_audit(), 0);
    for ( i = 0; i < done; i++ )
    {
        ASSERT_TRUE(!p2m_is_populated(pfns[i]));
        ASSERT_TRUE(!readable(pfns[i]));    /* no alias left to it */
    }
    ASSERT_EQ(balloon_populate_list(pfns, done, &i), 0);
    ASSERT_EQ(i, done);
    ASSERT_EQ(frame_free_count(), free0);
    ASSERT_EQ(reservation(), res0);
}

/* ---- balloon populate, at the pfns just released ------------------ */

static void populate_once(enum inject_kind kind, unsigned long nth,
                          bool *fired)
{
    pfn_t pfns[NR_FRAMES], rest[NR_FRAMES];
    unsigned long done, i, k = 0, fired0, pop0, free0 = frame_free_count();
    long before, res0;
    int rc;

    ASSERT_EQ(balloon_release(NR_FRAMES, pfns, &done), 0);
    before = ledger(0);
    res0 = reservation();
    pop0 = p2m_nr_populated;
    fired0 = inject_fired_total();
    arm(kind, nth);
    rc = balloon_populate_list(pfns, NR_FRAMES, &done);
    *fired = disarm(fired0);
    ASSERT_TRUE(rc == 0 ? done == NR_FRAMES : rc < 0 && done < NR_FRAMES);
    if ( *fired && kind == INJECT_POPULATE )
        ASSERT_EQ(done, NR_FRAMES / 2);     /* the short count, exactly */
    ASSERT_EQ(reservation(), res0 + (long)done);
    ASSERT_EQ(p2m_nr_populated, pop0 + done);
    ASSERT_EQ(count_populated(pfns, NR_FRAMES), done);
    ASSERT_EQ(ledger(0), before);
    ASSERT_EQ(p2m_audit(), 0);
    for ( i = 0; i < NR_FRAMES; i++ )
    {
        ASSERT_EQ(readable(pfns[i]), p2m_is_populated(pfns[i]));
        if ( !p2m_is_populated(pfns[i]) )
            rest[k++] = pfns[i];
    }
    ASSERT_EQ(balloon_populate_list(rest, k, &done), 0);
    ASSERT_EQ(done, k);
    ASSERT_EQ(frame_free_count(), free0);
}

/* ---- populate at far pfns: p2m_set into a missing 512 GiB ---------- */

static void far_populate_once(enum inject_kind kind, unsigned long nth,
                              bool *fired)
{
    pfn_t pfns[NR_FAR], far[NR_FAR];
    unsigned long done, got, fired0, free0 = frame_free_count();
    unsigned long size0 = p2m_size;
    long before, res0;
    int rc;

    far_pfns(far);
    ASSERT_EQ(balloon_release(NR_FAR, pfns, &done), 0);
    before = ledger(0);
    res0 = reservation();
    fired0 = inject_fired_total();
    arm(kind, nth);
    rc = balloon_populate_list(far, NR_FAR, &done);
    *fired = disarm(fired0);
    ASSERT_TRUE(rc == 0 ? done == NR_FAR : rc < 0 && done < NR_FAR);
    got = count_populated(far, NR_FAR);
    ASSERT_EQ(got, done);
    ASSERT_EQ(reservation(), res0 + (long)done);
    ASSERT_EQ(ledger(got), before);
    ASSERT_EQ(p2m_audit(), 0);
    /* Undo: give back what stuck; the p2m must shrink back to nothing. */
    ASSERT_EQ(balloon_release_pfns(far, done, &got), 0);
    ASSERT_EQ(got, done);
    ASSERT_EQ(p2m_size, size0);
    ASSERT_EQ(balloon_populate_list(pfns, NR_FAR, &done), 0);
    ASSERT_EQ(frame_free_count(), free0);
    ASSERT_EQ(ledger(0), before);
}

/* ---- release far pfns: the private pages collapse ------------------ */

static void far_release_once(enum inject_kind kind, unsigned long nth,
                             bool *fired)
{
    pfn_t pfns[NR_FAR], far[NR_FAR], left[NR_FAR];
    unsigned long done, k = 0, i, fired0, free0 = frame_free_count();
    unsigned long size0 = p2m_size;
    long before, res0;
    int rc;

    far_pfns(far);
    ASSERT_EQ(balloon_release(NR_FAR, pfns, &done), 0);
    before = ledger(0);
    ASSERT_EQ(balloon_populate_list(far, NR_FAR, &done), 0);
    res0 = reservation();
    fired0 = inject_fired_total();
    arm(kind, nth);
    rc = balloon_release_pfns(far, NR_FAR, &done);
    *fired = disarm(fired0);
    ASSERT_TRUE(rc == 0 ? done == NR_FAR : rc < 0 && done < NR_FAR);
    ASSERT_EQ(reservation(), res0 - (long)done);
    ASSERT_EQ(count_populated(far, NR_FAR), NR_FAR - done);
    ASSERT_EQ(ledger(NR_FAR - done), before);
    ASSERT_EQ(p2m_audit(), 0);
    for ( i = 0; i < NR_FAR; i++ )
        if ( p2m_is_populated(far[i]) )
            left[k++] = far[i];
    ASSERT_EQ(balloon_release_pfns(left, k, &done), 0);
    ASSERT_EQ(p2m_size, size0);
    ASSERT_EQ(balloon_populate_list(pfns, NR_FAR, &done), 0);
    ASSERT_EQ(frame_free_count(), free0);
    ASSERT_EQ(ledger(0), before);
}

/* ---- pagetables --------------------------------------------------- */

struct tree {
    mfn_t root;
    pfn_t data;
};

static int tree_build(struct tree *t)
{
    t->root = INVALID_MFN;
    t->data = frame_alloc();
    if ( pfn_eq(t->data, INVALID_PFN) )
        return -XEN_ENOMEM;
    t->root = pt_alloc(4);
    if ( mfn_eq(t->root, INVALID_MFN) )
        return -XEN_ENOMEM;
    return pt_map_page(t->root, TEST_VA, pfn_to_mfn(t->data),
                       PTE_KERNEL_RO | pte_nx);
}

/* The tables of t: root, L3, L2, L1 (as far as they exist). */
static unsigned int tree_tables(const struct tree *t, mfn_t tables[4])
{
    unsigned int n = 1, level, index;

    tables[0] = t->root;
    for ( level = 3; level >= 1; level-- )
    {
        mfn_t table;

        if ( pt_walk(t->root, TEST_VA, level, &table, &index) )
            break;
        tables[n++] = table;
    }
    return n;
}

/*
 * Can the table page at va be written?  Xen emulates some writes to
 * pagetables it validates, so the probe writes something no validation
 * accepts (a present entry naming a frame beyond any machine) into an
 * empty slot; where the write does land, the slot is emptied again.
 */
#define UNACCEPTABLE_PTE    ((1UL << 51) | _PAGE_PRESENT)

static bool table_writable_at(volatile pte_t *t)
{
    struct exc_fault f;
    unsigned int i;

    for ( i = 0; i < PT_ENTRIES && t[i]; i++ )
        continue;
    if ( i == PT_ENTRIES || exc_probe_write(&t[i], UNACCEPTABLE_PTE, &f) )
        return false;
    t[i] = 0;
    return true;
}

/* Roles against Xen: read-only in the roles iff some alias is. */
static void check_roles_match_xen(const struct tree *t)
{
    mfn_t tables[4];
    unsigned int n = tree_tables(t, tables), i;

    for ( i = 0; i < n; i++ )
    {
        pfn_t pfn = mfn_to_pfn(tables[i]);
        bool ro = pt_role(pfn) & PT_ROLE_RO;
        bool all_writable = table_writable_at(directmap_va(pfn)) &&
                            (!bootmap_covers(pfn) ||
                             table_writable_at(boot_pfn_to_va(pfn)));

        ASSERT_EQ(all_writable, !ro);
    }
}

/* Is root pinned in Xen?  Asks by unpinning: only for a doomed tree. */
static bool xen_had_it_pinned(mfn_t root)
{
    struct mmuext_op op = { .cmd = MMUEXT_UNPIN_TABLE,
                            .arg1.mfn = mfn_x(root) };

    return HYPERVISOR_mmuext_op(&op, 1, NULL, DOMID_SELF) == 0;
}

static void tree_destroy(struct tree *t)
{
    ASSERT_EQ(pt_unpin(t->root), 0);
    ASSERT_EQ(pt_free_tree(t->root), 0);
    /* Freed frames must not stay pinned in Xen behind the roles' back. */
    ASSERT_TRUE(!xen_had_it_pinned(t->root));
    frame_free(t->data);
}

static void pin_once(enum inject_kind kind, unsigned long nth, bool *fired)
{
    unsigned long free0 = frame_free_count(), fired0;
    struct tree t;
    int rc;

    ASSERT_EQ(tree_build(&t), 0);
    fired0 = inject_fired_total();
    arm(kind, nth);
    rc = pt_pin(t.root);
    *fired = disarm(fired0);
    ASSERT_EQ(!!(pt_role(mfn_to_pfn(t.root)) & PT_ROLE_PINNED), rc == 0);
    check_roles_match_xen(&t);
    ASSERT_OK_HELPER();
    tree_destroy(&t);
    ASSERT_OK_HELPER();
    ASSERT_EQ(frame_free_count(), free0);
}

static void unpin_once(enum inject_kind kind, unsigned long nth, bool *fired)
{
    unsigned long free0 = frame_free_count(), fired0;
    struct tree t;
    int rc;

    ASSERT_EQ(tree_build(&t), 0);
    ASSERT_EQ(pt_pin(t.root), 0);
    fired0 = inject_fired_total();
    arm(kind, nth);
    rc = pt_unpin(t.root);
    *fired = disarm(fired0);
    if ( !rc )
        ASSERT_EQ(pt_role(mfn_to_pfn(t.root)) & PT_ROLE_PINNED, 0);
    check_roles_match_xen(&t);
    ASSERT_OK_HELPER();
    tree_destroy(&t);
    ASSERT_OK_HELPER();
    ASSERT_EQ(frame_free_count(), free0);
}

static void build_once(enum inject_kind kind, unsigned long nth, bool *fired)
{
    unsigned long free0 = frame_free_count(), fired0 = inject_fired_total();
    struct tree t;
    int rc;

    arm(kind, nth);
    rc = tree_build(&t);
    *fired = disarm(fired0);
    ASSERT_TRUE(*fired ? rc == -XEN_ENOMEM : rc == 0);
    if ( !mfn_eq(t.root, INVALID_MFN) )
        ASSERT_EQ(pt_free_tree(t.root), 0);
    if ( !pfn_eq(t.data, INVALID_PFN) )
        frame_free(t.data);
    ASSERT_EQ(frame_free_count(), free0);
}

/* ---- the sweep ---------------------------------------------------- */

typedef void (*op_fn)(enum inject_kind kind, unsigned long nth, bool *fired);

/* Every N of every kind, until the operation runs out of such calls. */
static void sweep(const char *name, op_fn op, const enum inject_kind *kinds,
                  unsigned int nr_kinds)
{
    unsigned long n, fired_here = 0;
    unsigned int k;
    bool fired;

    for ( k = 0; k < nr_kinds; k++ )
    {
        for ( n = 1; n <= MAX_N; n++ )
        {
            fired = false;
            op(kinds[k], n, &fired);
            injected += fired;
            if ( test_failed() )
            {
                printk("         %s: the check above failed with call %lu "
                       "of %s failing\n", name, n, inject_kind_name(kinds[k]));
                return;
            }
            if ( !fired )
                break;
            survived++;
            fired_here++;
        }
        if ( n > MAX_N )
            FAIL("%s: %s still fired at call %d", name,
                 inject_kind_name(kinds[k]), MAX_N);
    }
    printk("         %s: %lu faults injected, all survived\n", name,
           fired_here);
}

TEST(inject, balloon_release_survives_every_fault)
{
    sweep("balloon_release", release_once, balloon_kinds,
          ARRAY_SIZE(balloon_kinds));
}

TEST(inject, balloon_populate_survives_every_fault)
{
    sweep("balloon_populate", populate_once, balloon_kinds,
          ARRAY_SIZE(balloon_kinds));
}

TEST(inject, p2m_set_into_missing_gig_survives_every_fault)
{
    sweep("populate_far", far_populate_once, balloon_kinds,
          ARRAY_SIZE(balloon_kinds));
}

TEST(inject, collapse_survives_every_fault)
{
    sweep("release_far", far_release_once, balloon_kinds,
          ARRAY_SIZE(balloon_kinds));
}

TEST(inject, pin_survives_every_fault)
{
    sweep("pt_pin", pin_once, pt_kinds, ARRAY_SIZE(pt_kinds));
}

TEST(inject, unpin_survives_every_fault)
{
    sweep("pt_unpin", unpin_once, pt_kinds, ARRAY_SIZE(pt_kinds));
}

TEST(inject, pt_alloc_survives_every_fault)
{
    sweep("pt_alloc", build_once, pt_kinds, ARRAY_SIZE(pt_kinds));
}

TEST(inject, sweep_totals)
{
    printk("faults injected: %lu, survived: %lu\n", injected, survived);
    ASSERT_GT(injected, 0);
    ASSERT_EQ(survived, injected);
}
