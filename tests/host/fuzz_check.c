/*
 * One fuzz run, checked against a model: the portable p2m core
 * (mm/p2m_*.c, compiled unchanged) over the host backend (p2m_host.c).
 *
 * A run (fuzz_ops.h) is a boot layout and a sequence of operations:
 * single sets (real, missing, identity), populate, release and identity
 * runs, trims, suspend/resume, and bad requests, at pfns clustered around
 * interesting places (the boot size, GiB and 512 GiB edges, the frame
 * list's reach, the top of the 2^36) and terabytes apart.  Any operation
 * may carry an injected allocation failure or a refused table update.
 * After every operation the core is checked against the model
 * (fuzz_model.c), never against itself:
 *   - lookups of every touched pfn, its neighbours and random probes
 *     (p2m_get_entry, pfn_to_mfn, mfn_to_pfn through the M2P);
 *   - the raw word in the linear array and the same word reached
 *     through the frame list (top -> mid -> leaf, read by frame);
 *   - the size and frame-list top the tools read;
 *   - the core's auditor, every audit_every ops, after every op in which
 *     an injected fault fired, and at the end;
 *   - the pages in use: exactly the structural minimum for the model's
 *     contents, plus the frame-list mids the GiBs have needed.
 * The first failed check ends the process with exit(1) and one line on
 * stderr; the drivers (fuzz_p2m.c, fuzz_libfuzzer.c) run each run in a
 * child for that reason, and because the core's state is global.
 */
#define _GNU_SOURCE
#include "fuzz_check.h"
#include "fuzz_model.h"
#include "p2m_host.h"
#include "../../mm/p2m_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#define MAX_FRAMES      (1UL << 16)
#define MAX_MAPPED      24000   /* chunks: a flush of all, now and then */
#define SWEEP_EVERY     256
#define NR_PROBES       16

static struct model model;
/* Frames given back lately: their mfn_to_pfn is probed after each op. */
#define NR_DROPPED      8
static unsigned long dropped[NR_DROPPED], nr_dropped;
static unsigned long next_mfn = HOST_GUEST_MFN_BASE;
static unsigned long cur_op;            /* for messages */
static unsigned char mid_maybe[512];    /* GiBs where a failed set may
                                           have left a mid */
/* The auditor and the statistics' walk every this many ops. */
static unsigned long audit_every;

/* ---- failing ---- */

static void __attribute__((noreturn, format(printf, 1, 2)))
fail(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "fuzz: after op %lu: ", cur_op);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, " (core's last message: %s)\n", host_last_log());
    exit(1);
}

#define EXPECT_EQ(what, found, want)                                     \
    do {                                                                 \
        unsigned long f_ = (found), w_ = (want);                         \
        if ( f_ != w_ )                                                  \
            fail("%s: found %#lx, expected %#lx", what, f_, w_);         \
    } while ( 0 )

/* ---- the boot view ---- */

static const struct layout *boot_layout;
static unsigned long boot_first_mfn;

static unsigned long boot_entry(unsigned long pfn)
{
    const struct layout *l = boot_layout;

    if ( pfn >= l->size )
        return l->dom0 ? IDENTITY_FRAME(pfn) : INVALID_P2M_ENTRY;
    if ( pfn >= l->hole_start && pfn < l->hole_end )
        return l->dom0 ? IDENTITY_FRAME(pfn) : INVALID_P2M_ENTRY;
    if ( pfn >= l->missing_start && pfn < l->missing_end )
        return INVALID_P2M_ENTRY;
    return boot_first_mfn + pfn;
}

static void boot(const struct layout *l)
{
    struct p2m_build b = { .size = l->size, .boot_entry = boot_entry,
                           .unwritten_identity = l->dom0,
                           .nr_pages = l->size };
    unsigned long pfn, e;
    int rc;

    boot_layout = l;
    boot_first_mfn = next_mfn;
    next_mfn += l->size;
    model_init(&model, l->dom0);
    for ( pfn = 0; pfn < l->size; pfn++ )
    {
        e = boot_entry(pfn);
        model_set(&model, pfn, e);
        if ( p2m_entry_is_populated(e) )
            host_m2p_set(e, pfn);
    }
    b.populated = model.populated;
    model.size = model.built_size = ROUNDUP(l->size, P2M_PER_PAGE);
    if ( (rc = p2m_build(&b)) != 0 )
        fail("p2m_build: %d", rc);
    if ( (rc = p2m_frames_init(l->linear)) != 0 )
        fail("p2m_frames_init: %d", rc);
}

/* ---- the checks ---- */

static const unsigned long *const linear = (const unsigned long *)P2M_BASE;

/* The word the array holds for pfn: a shared leaf reads INVALID. */
static unsigned long raw_expected(unsigned long pfn)
{
    unsigned long e = model_get(&model, pfn);

    return model_chunk_kind(&model, CHUNK_OF(pfn)) == MK_REAL
           ? e : INVALID_P2M_ENTRY;
}

/* The same word as the tools find it: top -> mid -> leaf, by frame. */
static void check_frame_list(unsigned long pfn, unsigned long want)
{
    unsigned long c = CHUNK_OF(pfn);
    mfn_t top = p2m_frames_top(), mid, leaf;

    if ( pfn >= P2M_FRAME_LIST_PFNS )
        return;
    mid = _mfn(host_frame(top)[c / CHUNKS_PER_GIG]);
    if ( !host_frame_in_use(mid) )
        fail("frame list: mid %#lx of chunk %#lx is not a p2m page",
             mfn_x(mid), c);
    leaf = _mfn(host_frame(mid)[c % CHUNKS_PER_GIG]);
    if ( !host_frame_in_use(leaf) )
        fail("frame list: leaf %#lx of chunk %#lx is not a p2m page",
             mfn_x(leaf), c);
    EXPECT_EQ("frame list word", host_frame(leaf)[pfn % P2M_PER_PAGE],
              want);
}

/*
 * What mfn_to_pfn(m) must say, from the model alone: the pfn the M2P
 * names if that pfn holds m, else m itself if pfn m is an identity entry,
 * else nothing.  A stale M2P entry (a frame given away) names a pfn that
 * no longer holds it.
 */
static unsigned long expected_pfn_of(unsigned long m)
{
    unsigned long p = p2m_m2p_raw(_mfn(m));

    if ( p != ~0UL && model_get(&model, p) == m )
        return p;
    if ( m < P2M_MAX_PFNS && model_get(&model, m) == IDENTITY_FRAME(m) )
        return m;
    return ~0UL;
}

static void check_mfn_to_pfn(unsigned long m)
{
    unsigned long got = pfn_x(mfn_to_pfn(_mfn(m)));

    if ( got != expected_pfn_of(m) )
        fail("mfn_to_pfn(%#lx): found %#lx, expected %#lx", m, got,
             expected_pfn_of(m));
}

static void check_pfn(unsigned long pfn)
{
    unsigned long want = model_get(&model, pfn), got, raw;

    if ( (got = p2m_get_entry(_pfn(pfn))) != want )
        fail("p2m_get_entry(%#lx): found %#lx, expected %#lx", pfn, got,
             want);
    EXPECT_EQ("pfn_to_mfn", mfn_x(pfn_to_mfn(_pfn(pfn))),
              want == INVALID_P2M_ENTRY ? ~0UL : want & ~IDENTITY_FRAME_BIT);
    if ( p2m_entry_is_populated(want) )
        EXPECT_EQ("mfn_to_pfn of a real entry",
                  pfn_x(mfn_to_pfn(_mfn(want))), pfn);
    else if ( want == IDENTITY_FRAME(pfn) )
        check_mfn_to_pfn(pfn);
    if ( pfn >= P2M_MAX_PFNS )
        return;
    raw = raw_expected(pfn);
    if ( (got = READ_ONCE(linear[pfn])) != raw )
        fail("linear[%#lx]: found %#lx, expected %#lx", pfn, got, raw);
    check_frame_list(pfn, raw);
}

/* The leaf behind a chunk is the shared page of the model's kind. */
static void check_chunk(unsigned long c)
{
    enum model_kind k = model_chunk_kind(&model, c);
    const struct p2m_shared_pages *s = p2m_shared_pages();
    mfn_t leaf = p2m_chunk_leaf(c);

    if ( k == MK_MISSING )
        EXPECT_EQ("leaf of an all-missing chunk", mfn_x(leaf),
                  mfn_x(s->missing));
    else if ( k == MK_IDENTITY )
        EXPECT_EQ("leaf of an all-identity chunk", mfn_x(leaf),
                  mfn_x(s->identity));
    else if ( mfn_eq(leaf, s->missing) || mfn_eq(leaf, s->identity) )
        fail("chunk %#lx holds a mix or a real entry on a shared leaf", c);
}

static unsigned long mids_needed(void)
{
    unsigned long n = 0, g;

    for ( g = 0; g < 512; g++ )
        n += model.mid_needed[g];
    return n;
}

static unsigned long mids_maybe(void)
{
    unsigned long n = 0, g;

    for ( g = 0; g < 512; g++ )
        n += mid_maybe[g] && !model.mid_needed[g];
    return n;
}

/*
 * Pages: the minimum for the model's contents.  Fixed: the L3, six
 * shared pages, the frame list's top and two shared mids.
 */
static void check_stats(unsigned long pages_in_use)
{
    struct p2m_stats st;

    p2m_get_stats(&st);
    /* The backend's count, independent of the core: every page named. */
    EXPECT_EQ("pages in use, against the core's statistics", pages_in_use,
              st.private_leaves + st.private_l1 + st.private_l2 + 1 + 6 +
              st.frame_list_pages);
    EXPECT_EQ("private leaves", st.private_leaves, model.priv_leaves);
    EXPECT_EQ("private L1s", st.private_l1, model.priv_l1);
    EXPECT_EQ("private L2s", st.private_l2, model.priv_l2);
    EXPECT_EQ("p2m_size", st.size, model.size);
    EXPECT_EQ("populated", st.populated, model.populated);
}

static void check_structure(bool full)
{
    struct p2m_be_published pub;
    struct host_counts hc;
    unsigned long fixed = 1 + 6 + 3, structural;

    host_counts(&hc);
    if ( full )
        check_stats(hc.pages_in_use);
    structural = model.priv_leaves + model.priv_l1 + model.priv_l2 + fixed;
    if ( hc.pages_in_use < structural + mids_needed() ||
         hc.pages_in_use > structural + mids_needed() + mids_maybe() )
        fail("pages in use %lu, the minimum is %lu + %lu mids (+ up to %lu "
             "from failed sets)", hc.pages_in_use, structural,
             mids_needed(), mids_maybe());
    p2m_be_published(&pub);
    EXPECT_EQ("published max_pfn", pub.max_pfn, model.size);
    EXPECT_EQ("published frame list", pub.frame_list,
              model.size > P2M_FRAME_LIST_PFNS ? ~0UL
                                               : mfn_x(p2m_frames_top()));
    host_set_reservation((long)model.populated);
    if ( full && p2m_core_audit() )
        fail("the auditor: %s %#lx", p2m_audit_last()->what,
             p2m_audit_last()->where);
}

/* Chunks a sweep has checked: the entries come in hash order, not by pfn. */
struct sweep_seen {
    unsigned long chunk_plus1[1024];
};

static void check_one_stored(unsigned long pfn, unsigned long e, void *ctx)
{
    struct sweep_seen *seen = ctx;
    unsigned long c = CHUNK_OF(pfn), *slot = &seen->chunk_plus1[c % 1024];

    (void)e;
    check_pfn(pfn);
    if ( *slot != c + 1 )
    {
        check_chunk(c);
        *slot = c + 1;
    }
}

/* A store into a shared leaf must fault and change nothing. */
static void check_shared_is_read_only(unsigned long pfn)
{
    unsigned long *va = (unsigned long *)&linear[pfn];

    if ( pfn >= P2M_MAX_PFNS ||
         model_chunk_kind(&model, CHUNK_OF(pfn)) == MK_REAL )
        return;
    if ( !host_store_faults(va, 0x1234) )
        fail("a store into the shared leaf at pfn %#lx did not fault", pfn);
    check_pfn(pfn);
}

static void check_probes(const struct fuzz_op *op, struct rng *r,
                         const struct fuzz_plan *plan)
{
    unsigned long probe[NR_PROBES], n = 0, i, end = op->pfn + op->len;

    if ( op->len )
    {
        probe[n++] = op->pfn;
        probe[n++] = end - 1;
        probe[n++] = op->pfn ? op->pfn - 1 : 0;
        probe[n++] = end;
        probe[n++] = op->pfn & ~(P2M_PER_PAGE - 1);
        probe[n++] = (end - 1) | (P2M_PER_PAGE - 1);
        probe[n++] = op->pfn + rng_below(r, op->len);
    }
    probe[n++] = model.size - 1;
    probe[n++] = model.size;
    while ( n < NR_PROBES - 2 )
        probe[n++] = plan_pfn(plan, r);
    /* Anywhere at all, now and then: each costs new mappings and faults. */
    probe[n++] = rng_below(r, 8) ? plan_pfn(plan, r)
                                 : rng_below(r, P2M_MAX_PFNS);
    probe[n++] = P2M_MAX_PFNS + rng_below(r, 1UL << 20);
    for ( i = 0; i < n; i++ )
    {
        check_pfn(probe[i]);
        if ( probe[i] < P2M_MAX_PFNS )
            check_chunk(CHUNK_OF(probe[i]));
    }
    for ( i = 0; i < NR_DROPPED && i < nr_dropped; i++ )
        check_mfn_to_pfn(dropped[i]);
}

/* A populated pfn of the model, found by model_for_each(). */
static void note_populated(unsigned long pfn, unsigned long e, void *ctx)
{
    unsigned long *found = ctx;

    if ( p2m_entry_is_populated(e) && *found == ~0UL )
        *found = pfn;
}

static void expect_audit(bool clean, const char *after)
{
    int rc = p2m_core_audit();

    if ( clean && rc )
        fail("the auditor, %s: %s %#lx", after, p2m_audit_last()->what,
             p2m_audit_last()->where);
    if ( !clean && !rc )
        fail("the auditor passed a p2m with %s", after);
}

/*
 * The auditor must catch what it claims to: an M2P entry that names
 * another pfn, and a populated count the structure does not hold (Xen's
 * reservation unknown, so that only the auditor's own count can see it).
 * Each is undone, and the auditor must be clean again.
 */
static void check_auditor_catches(void)
{
    unsigned long pfn = ~0UL, mfn;

    model_for_each(&model, note_populated, &pfn);
    host_set_reservation(-1);
    if ( pfn != ~0UL )
    {
        mfn = model_get(&model, pfn);
        host_m2p_set(mfn, pfn ^ 1);
        expect_audit(false, "an M2P entry naming the wrong pfn");
        host_m2p_set(mfn, pfn);
    }
    p2m_nr_populated++;
    expect_audit(false, "a populated count one too high");
    p2m_nr_populated--;
    expect_audit(true, "after the corruptions were undone");
    host_set_reservation((long)model.populated);
}

/* ---- doing an operation ---- */

/*
 * Gives a real frame back to "Xen".  One in four keeps its M2P entry, as
 * a frame that went to another domain names a pfn of that domain's:
 * mfn_to_pfn must not take the M2P's word without the round trip.
 */
static void drop_frame(unsigned long old)
{
    if ( !p2m_entry_is_populated(old) )
        return;
    if ( old % 4 )
        host_m2p_set(old, ~0UL);
    dropped[nr_dropped++ % NR_DROPPED] = old;
}

static unsigned long entry_for(enum fuzz_op_type t, unsigned long pfn)
{
    switch ( t )
    {
    case FOP_POPULATE:
        return next_mfn++;
    case FOP_IDENTITY:
        return IDENTITY_FRAME(pfn);
    case FOP_BAD_IDENTITY:
        return IDENTITY_FRAME(pfn + 1);
    default:
        return INVALID_P2M_ENTRY;
    }
}

/* One p2m_set, as a balloon driver would do it; the model follows. */
static int set_one(enum fuzz_op_type t, unsigned long pfn)
{
    unsigned long e = entry_for(t, pfn), old;
    bool valid = pfn < P2M_MAX_PFNS && t != FOP_BAD_IDENTITY;
    int rc;

    old = valid ? model_get(&model, pfn) : 0;
    if ( p2m_entry_is_populated(e) )
    {
        if ( e >= HOST_M2P_ENTRIES )
            fail("the run used up the M2P's %lu frames", HOST_M2P_ENTRIES);
        host_m2p_set(e, pfn);
    }
    rc = p2m_set(_pfn(pfn), e);
    if ( !valid )
    {
        EXPECT_EQ("p2m_set of a bad request", (unsigned long)rc,
                  (unsigned long)-XEN_EINVAL);
        return rc;
    }
    /* Past the size, any other entry grows it, even if the set fails. */
    if ( pfn >= model.size && e != old )
        model.size = ROUNDUP(pfn + 1, P2M_PER_PAGE);
    if ( rc )
    {
        if ( !host_injection_fired() )
            fail("p2m_set(%#lx, %#lx) failed with %d, nothing injected",
                 pfn, e, rc);
        if ( pfn < P2M_FRAME_LIST_PFNS )
            mid_maybe[pfn / (P2M_PER_PAGE * P2M_PER_PAGE)] = 1;
        drop_frame(e);
        return rc;
    }
    drop_frame(old == e ? 0 : old);
    model_set(&model, pfn, e);
    return 0;
}

static void trim(void)
{
    p2m_trim();
    model.size = model_trimmed_size(&model);
}

/* Does the op; true if an injected failure fired in it. */
static bool do_op(const struct fuzz_op *op)
{
    unsigned long i, rederived, invalid_before, injected_before;
    struct host_counts hc;
    int rc;

    host_counts(&hc);
    invalid_before = hc.invalid;
    injected_before = hc.injected;

    host_fail_alloc(op->fail_alloc);
    host_refuse_update(op->refuse);
    switch ( op->type )
    {
    case FOP_TRIM:
        trim();
        break;
    case FOP_SUSPEND:
        p2m_core_suspend();
        if ( (rc = p2m_core_resume(&rederived)) != 0 )
            fail("p2m_core_resume: %d", rc);
        break;
    default:
        for ( i = 0; i < op->len; i++ )
            if ( set_one(op->type, op->pfn + i) && op->len > 1 )
                host_fail_alloc(-1), host_refuse_update(-1);
    }
    host_fail_alloc(-1);
    host_refuse_update(-1);
    host_counts(&hc);
    /* After a refusal the core may try what no longer fits; never else. */
    if ( hc.invalid != invalid_before && op->refuse < 0 )
        fail("the core asked for what Xen refuses: %s",
             host_last_invalid());
    if ( hc.injected == injected_before )
        return false;
    trim();                         /* retries what a refusal left */
    return true;
}

/* ---- a run ---- */

void fuzz_check_run(const struct fuzz_run *fr,
                    const struct fuzz_check_opts *o,
                    volatile unsigned long *done)
{
    struct rng r = { .s = fr->seed ^ 0x9e3779b97f4a7c15UL };
    unsigned long i;
    bool injected;

    audit_every = o->audit_every ? o->audit_every : FUZZ_AUDIT_EVERY;
    if ( host_init(MAX_FRAMES, MAX_MAPPED) )
        fail("host_init");
    if ( o->sabotage_flush )
        host_sabotage_flushes();
    boot(&fr->layout);
    check_structure(true);
    for ( i = 0; i < fr->nr_ops; i++ )
    {
        cur_op = i;
        /* Every error path taken is audited at once. */
        injected = do_op(&fr->ops[i]);
        check_structure(injected || i % audit_every == 0 ||
                        i + 1 == fr->nr_ops);
        check_probes(&fr->ops[i], &r, &fr->plan);
        if ( i % SWEEP_EVERY == SWEEP_EVERY - 1 || i + 1 == fr->nr_ops )
        {
            struct sweep_seen seen = { { 0 } };

            model_for_each(&model, check_one_stored, &seen);
            check_shared_is_read_only(plan_pfn(&fr->plan, &r));
            check_shared_is_read_only(P2M_MAX_PFNS - 1);
        }
        *done = i + 1;
    }
    check_auditor_catches();
}

/* Starts fr in a child on progress slot `slot`; its pid. */
