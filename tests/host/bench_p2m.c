/*
 * Native benchmarks of p2m lookups (make bench-host).
 *
 * Under QEMU/TCG (make bench) every guest load goes through QEMU's
 * software TLB, which flattens the difference between one load and three
 * (docs/performance.md).  Here the same lookup code runs on the host CPU:
 * pfn_to_mfn() from include/pvmm/p2m.h, compiled unchanged, reading the
 * linear p2m that the portable core (mm/p2m_*.c) built through the host
 * backend (p2m_host.c), whose array is real pages mapped 4 KiB at a time
 * as under Xen.  It is compared with the three-level tree walk
 * (mm/p2m_tree.c) built over a flat array, and with that array itself.
 *
 * Two layouts, each in its own child process (the core has one p2m):
 *   booted  64 GiB, every pfn populated (a booted domU): random lookups
 *           over 2^6 .. 2^24 pfns (the first 64 pfns are the hot set,
 *           2^18 is 1 GiB, 2^24 is 64 GiB), a sequential scan of 1 GiB,
 *           stores into private leaves, and the p2m's pages;
 *   sparse  1 TiB span (2^28 pfns) with populated islands about 2 GiB
 *           apart: random lookups of populated pfns (tree: n/a, it
 *           reaches 2^27 pfns), p2m_set populate and clear, pages.
 *
 * Each lookup figure is one pre-generated shuffled index array, one
 * warm-up pass (it faults every chunk mapping in and checks that the
 * three methods agree), then REPS timed passes: median, min and max per
 * lookup, in ns (CLOCK_MONOTONIC) and in TSC ticks (rdtsc, fenced).
 * Two modes: "dep" makes each lookup's pfn depend on the previous
 * result (the latency of a lookup whose answer is needed next); "ind"
 * XORs independent results into a sink, as the in-guest benchmark does
 * (the CPU overlaps the loads: throughput).
 *
 * Output: "BENCH-HOST <name> key=value ..." lines (stdout and --txt),
 * the sweep as CSV rows (--csv, for tools/plot-lookups), then a table.
 */
#define _GNU_SOURCE
#include "p2m_host.h"
#include <pvmm/p2m_core.h>
#include <pvmm/p2m_tree.h>

#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define REPS            11
#define LOOKUPS         (1UL << 19)     /* per timed pass */
#define BOOTED_PFNS     (1UL << 24)     /* 64 GiB */
#define GIB_PFNS        (1UL << 18)
#define SPARSE_PFNS     (1UL << 28)     /* 1 TiB */
#define SPARSE_ISLANDS  512
#define MAX_FRAMES      (1UL << 16)     /* the p2m's own pages, at most */
#define MAX_MAPPED      40000           /* 64 GiB's 32768 leaves stay mapped */
#define SWEEP_FIRST     6               /* log2 pfns: 2^6 .. 2^24 */
#define SWEEP_LAST      24
#define SET_PFNS        (1UL << 15)     /* 128 MiB, in a missing GiB */
#define PRIVATE_PFNS    (1UL << 16)

/* A pfn's mfn in both layouts: any real frame number will do. */
#define BOOT_MFN(pfn)   ((1UL << 32) + (pfn))
/* The fresh frames p2m_set populates with (below 2^40, not INVALID). */
#define FRESH_MFN       (1UL << 38)

enum method { TREE, LINEAR, ARRAY, NR_METHODS };
enum mode { DEP, IND, NR_MODES };
enum set { HOT, GIB, GIB64, SPARSE, SEQ, NR_SETS };

static const char *const method_name[] = { "tree", "linear", "array" };
static const char *const mode_name[] = { "dep", "ind" };
static const char *const set_name[] = {
    "hot64", "random1g", "random64g", "sparse1t", "seq1g" };
static const char *const set_what[] = {
    "hot: 64 pfns", "random, 1 GiB", "random, 64 GiB",
    "sparse 1 TiB, populated", "sequential, 1 GiB" };

/* Why a figure is missing. */
enum why { MEASURED, TREE_REACH, REFAULTS };
static const char *const why_text[] = {
    "", "the_tree_reaches_2^27_pfns", "the_host_backend_cannot_keep_"
    "every_chunk_mapped" };

/* One timed figure, per operation. */
struct figure {
    bool valid;
    enum why why;                   /* if not valid */
    double ns, ns_min, ns_max;
    double tsc, tsc_min, tsc_max;
    unsigned long fills;            /* chunk mappings made while timed */
};

struct memory {
    unsigned long pfns, populated, pages, flat_pages;
    struct p2m_stats st;
};

/* What the children measure, in memory shared with the parent. */
struct results {
    struct figure lookup[NR_SETS][NR_MODES][NR_METHODS];
    struct figure set_private, set_populate, set_clear;
    unsigned long populate_allocs, clear_frees;
    struct memory booted, sparse;
    double build_ms[2];
};

static struct results *res;
static FILE *txt, *csv;

/* The lookup methods read these. */
static struct p2m_tree tree;
static const unsigned long *flat;
static volatile unsigned long sink, zero;

/* ---- output ---- */

/* A BENCH-HOST line, to stdout and the --txt file. */
static void __attribute__((format(printf, 1, 2))) emit(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    fputs("BENCH-HOST ", stdout);
    vprintf(fmt, ap);
    va_end(ap);
    fputc('\n', stdout);
    if ( txt )
    {
        va_start(ap, fmt);
        fputs("BENCH-HOST ", txt);
        vfprintf(txt, fmt, ap);
        va_end(ap);
        fputc('\n', txt);
    }
}

static void __attribute__((noreturn, format(printf, 1, 2)))
die(const char *fmt, ...)
{
    va_list ap;

    fputs("bench-p2m: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, " (core's last message: %s)\n", host_last_log());
    exit(1);
}

/* ---- clocks and statistics ---- */

static inline uint64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000UL + ts.tv_nsec;
}

/* The fences keep the timed loads inside the two reads. */
static inline uint64_t tsc(void)
{
    uint32_t lo, hi;

    asm volatile ( "lfence; rdtsc; lfence" : "=a" (lo), "=d" (hi)
                   :: "memory" );
    return (uint64_t)hi << 32 | lo;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

/* Median, min and max of v[0..n) (sorted in place). */
static void summarise(double *v, unsigned int n, double *med, double *min,
                      double *max)
{
    qsort(v, n, sizeof(*v), cmp_double);
    *med = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    *min = v[0];
    *max = v[n - 1];
}

static unsigned long fills_now(void)
{
    struct host_counts c;

    host_counts(&c);
    return c.fills;
}

/* ---- random numbers: the same sequences in every run ---- */

static uint64_t rng_state = 0x9e3779b97f4a7c15UL;

static uint64_t next_random(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15UL);     /* splitmix64 */

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9UL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebUL;
    return z ^ (z >> 31);
}

/* ---- the lookup loops ---- */

/*
 * One pass over idx in each mode.  dep: the pfn is XORed with the last
 * result ANDed with `zero` (0, but the compiler cannot know), so each
 * lookup waits for the one before; ind: the results only meet in a XOR.
 */
#define LOOKUP_LOOPS(m, LOOKUP)                                             \
static unsigned long __attribute__((noinline))                              \
dep_##m(const uint32_t *idx, unsigned long n)                               \
{                                                                           \
    unsigned long i, e = 0, z = zero;                                       \
                                                                            \
    for ( i = 0; i < n; i++ )                                               \
        e = LOOKUP(idx[i] ^ (e & z));                                       \
    return e;                                                               \
}                                                                           \
static unsigned long __attribute__((noinline))                              \
ind_##m(const uint32_t *idx, unsigned long n)                               \
{                                                                           \
    unsigned long i, acc = 0;                                               \
                                                                            \
    for ( i = 0; i < n; i++ )                                               \
        acc ^= LOOKUP(idx[i]);                                              \
    return acc;                                                             \
}

#define TREE_LOOKUP(pfn)    p2m_tree_lookup(&tree, (pfn))
#define LINEAR_LOOKUP(pfn)  mfn_x(pfn_to_mfn(_pfn(pfn)))
#define ARRAY_LOOKUP(pfn)   flat[(pfn)]

LOOKUP_LOOPS(tree, TREE_LOOKUP)
LOOKUP_LOOPS(linear, LINEAR_LOOKUP)
LOOKUP_LOOPS(array, ARRAY_LOOKUP)

typedef unsigned long (*loop_fn)(const uint32_t *idx, unsigned long n);

static const loop_fn loops[NR_MODES][NR_METHODS] = {
    [DEP] = { dep_tree, dep_linear, dep_array },
    [IND] = { ind_tree, ind_linear, ind_array },
};

/* How many chunks idx touches. */
static unsigned long distinct_chunks(const uint32_t *idx, unsigned long n)
{
    uint8_t *seen = calloc(SPARSE_PFNS / P2M_PER_PAGE / 8, 1);
    unsigned long i, c, count = 0;

    if ( !seen )
        die("no memory for the chunk bitmap");
    for ( i = 0; i < n; i++ )
    {
        c = idx[i] / P2M_PER_PAGE;
        count += !(seen[c / 8] & (1 << c % 8));
        seen[c / 8] |= 1 << c % 8;
    }
    free(seen);
    return count;
}

/*
 * The warm-up: every pfn of idx through all three methods (the tree only
 * if it reaches), which maps every chunk the timed passes will touch,
 * and must agree.  The host backend keeps a bounded number of chunks
 * mapped (p2m_host.c); past it, it drops them all and every pass would
 * refault.  Returns false, early, if it does: the linear figure would
 * time the backend's signal handler, not the lookup.
 */
static bool warm_up(const uint32_t *idx, unsigned long n, bool with_tree)
{
    unsigned long chunks = distinct_chunks(idx, n), f0 = fills_now();
    unsigned long i, want, p;
    bool linear = true;

    for ( i = 0; i < n; i++ )
    {
        p = idx[i];
        want = flat[p];
        if ( with_tree && p2m_tree_lookup(&tree, p) != want )
            die("pfn %#lx: the tree says %#lx, the array %#lx", p,
                p2m_tree_lookup(&tree, p), want);
        if ( !linear )
            continue;
        if ( mfn_x(pfn_to_mfn(_pfn(p))) != want )
            die("pfn %#lx: the linear p2m says %#lx, the array %#lx", p,
                mfn_x(pfn_to_mfn(_pfn(p))), want);
        if ( i % 4096 == 0 && fills_now() - f0 > chunks )
            linear = false;
    }
    return linear && fills_now() - f0 <= chunks;
}

/* Times lookups from several samples: a figure of medians. */
struct samples {
    double ns[REPS], tk[REPS];
    unsigned long fills;
};

/* One untimed pass (it warms what this method reads), one timed. */
static void timed_pass(loop_fn f, const uint32_t *idx, unsigned long n,
                       struct samples *sm, unsigned int r)
{
    unsigned long fills;
    uint64_t t0, t1, c0, c1;

    sink ^= f(idx, n);
    fills = fills_now();
    t0 = now_ns();
    c0 = tsc();
    sink ^= f(idx, n);
    c1 = tsc();
    t1 = now_ns();
    sm->fills += fills_now() - fills;
    sm->ns[r] = (double)(t1 - t0) / n;
    sm->tk[r] = (double)(c1 - c0) / n;
}

static struct figure to_figure(struct samples *sm)
{
    struct figure f = { .valid = true, .fills = sm->fills };

    summarise(sm->ns, REPS, &f.ns, &f.ns_min, &f.ns_max);
    summarise(sm->tk, REPS, &f.tsc, &f.tsc_min, &f.tsc_max);
    return f;
}

/*
 * REPS rounds of every method in `which`, taking turns: a change in the
 * machine's load (the other core, the hypervisor) hits all methods
 * alike, so the ratios hold even when the absolute figures drift.
 */
static void time_methods(enum mode mo, const bool which[NR_METHODS],
                         const uint32_t *idx, unsigned long n,
                         struct figure out[NR_METHODS])
{
    struct samples sm[NR_METHODS] = { 0 };
    enum method me;
    unsigned int r;

    for ( r = 0; r < REPS; r++ )
        for ( me = 0; me < NR_METHODS; me++ )
            if ( which[me] )
                timed_pass(loops[mo][me], idx, n, &sm[me], r);
    for ( me = 0; me < NR_METHODS; me++ )
        if ( which[me] )
            out[me] = to_figure(&sm[me]);
}

static void print_lookup(const char *name, unsigned long pfns,
                         enum mode mo, enum method me, const struct figure *f)
{
    if ( !f->valid )
    {
        emit("lookup.%s.%s mode=%s pfns=%lu ns=n/a why=%s", name,
             method_name[me], mode_name[mo], pfns, why_text[f->why]);
        return;
    }
    emit("lookup.%s.%s mode=%s pfns=%lu ns=%.2f min=%.2f max=%.2f "
         "tsc=%.1f tsc_min=%.1f tsc_max=%.1f ops=%lu reps=%u fills=%lu",
         name, method_name[me], mode_name[mo], pfns, f->ns, f->ns_min,
         f->ns_max, f->tsc, f->tsc_min, f->tsc_max, LOOKUPS, REPS, f->fills);
}

static void print_ratios(const char *name, enum mode mo,
                         const struct figure *f)
{
    if ( f[TREE].valid && f[LINEAR].valid )
        emit("lookup.%s.ratio.tree_over_linear mode=%s value=%.2f", name,
             mode_name[mo], f[TREE].ns / f[LINEAR].ns);
    else
        emit("lookup.%s.ratio.tree_over_linear mode=%s value=n/a", name,
             mode_name[mo]);
    if ( f[LINEAR].valid )
        emit("lookup.%s.ratio.linear_over_array mode=%s value=%.2f", name,
             mode_name[mo], f[LINEAR].ns / f[ARRAY].ns);
    else
        emit("lookup.%s.ratio.linear_over_array mode=%s value=n/a", name,
             mode_name[mo]);
}

/*
 * All methods and modes over idx; the results in out[mode][method].
 * Prints them and, for the sweep, their CSV rows.
 */
static void measure_set(const char *name, unsigned long pfns,
                        const uint32_t *idx, unsigned long n, bool with_tree,
                        bool to_csv,
                        struct figure out[NR_MODES][NR_METHODS])
{
    bool which[NR_METHODS] = { [TREE] = with_tree, [ARRAY] = true };
    const struct figure *f;
    enum method me;
    enum mode mo;

    which[LINEAR] = warm_up(idx, n, with_tree);
    for ( mo = 0; mo < NR_MODES; mo++ )
    {
        out[mo][TREE] = (struct figure){ .why = TREE_REACH };
        out[mo][LINEAR] = (struct figure){ .why = REFAULTS };
        time_methods(mo, which, idx, n, out[mo]);
        for ( me = 0; me < NR_METHODS; me++ )
        {
            f = &out[mo][me];
            print_lookup(name, pfns, mo, me, f);
            if ( to_csv && f->valid && csv )
                fprintf(csv, "%lu,%s,%s,%.3f,%.3f,%.3f\n", pfns,
                        method_name[me], mode_name[mo], f->ns, f->ns_min,
                        f->ns_max);
        }
        print_ratios(name, mo, out[mo]);
    }
}

/* ---- building a layout ---- */

static void *tree_page_alloc(void)
{
    void *p = aligned_alloc(PAGE_SIZE, PAGE_SIZE);

    if ( p )
        memset(p, 0, PAGE_SIZE);
    return p;
}

static const struct p2m_tree_pages tree_pages = {
    .alloc = tree_page_alloc, .free = free,
};

/*
 * The flat array: 4 KiB pages, like the linear p2m's (no transparent
 * huge pages, which would spare it the TLB misses the p2m takes).  Only
 * what is written gets memory.
 */
static unsigned long *flat_alloc(unsigned long pfns)
{
    size_t len = pfns * sizeof(unsigned long);
    void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

    if ( p == MAP_FAILED )
        die("cannot map a %lu-pfn flat array", pfns);
    madvise(p, len, MADV_NOHUGEPAGE);
    return p;
}

/* The boot view's islands (sparse layout): one flag per chunk. */
static uint8_t *island;

static unsigned long booted_entry(unsigned long pfn)
{
    return BOOT_MFN(pfn);
}

static unsigned long sparse_entry(unsigned long pfn)
{
    return island[pfn / P2M_PER_PAGE] ? BOOT_MFN(pfn) : INVALID_P2M_ENTRY;
}

/* p2m_build and the frame list, as pvmm does at boot; returns ms. */
static double build(unsigned long size, unsigned long populated,
                    unsigned long (*entry)(unsigned long pfn))
{
    struct p2m_build b = { .size = size, .populated = populated,
                           .boot_entry = entry, .nr_pages = populated };
    uint64_t t0;
    int rc;

    if ( host_init(MAX_FRAMES, MAX_MAPPED) )
        die("host_init");
    t0 = now_ns();
    if ( (rc = p2m_build(&b)) != 0 )
        die("p2m_build: %d", rc);
    if ( (rc = p2m_frames_init(false)) != 0 )
        die("p2m_frames_init: %d", rc);
    return (now_ns() - t0) / 1e6;
}

static void measure_memory(const char *name, unsigned long pfns,
                           struct memory *m)
{
    struct host_counts c;

    host_counts(&c);
    p2m_get_stats(&m->st);
    m->pfns = pfns;
    m->populated = m->st.populated;
    m->pages = c.pages_in_use;
    m->flat_pages = pfns / P2M_PER_PAGE;
    emit("memory.%s pfns=%lu populated=%lu pages=%lu leaves=%lu l1=%lu "
         "l2=%lu frame_list=%lu flat_array_pages=%lu", name, pfns,
         m->populated, m->pages, m->st.private_leaves, m->st.private_l1,
         m->st.private_l2, m->st.frame_list_pages, m->flat_pages);
}

/* ---- the booted layout ---- */

/* n random pfns below span, shuffled. */
static void random_below(uint32_t *idx, unsigned long n, unsigned long span)
{
    unsigned long i;

    for ( i = 0; i < n; i++ )
        idx[i] = next_random() % span;
}

/* Random lookups over 2^6 .. 2^24 pfns from pfn 0; the named sets too. */
static void booted_sweep(uint32_t *idx)
{
    struct figure f[NR_MODES][NR_METHODS];
    unsigned int lg;
    char name[32];

    for ( lg = SWEEP_FIRST; lg <= SWEEP_LAST; lg += 2 )
    {
        random_below(idx, LOOKUPS, 1UL << lg);
        snprintf(name, sizeof(name), "sweep.pfns%lu", 1UL << lg);
        measure_set(name, 1UL << lg, idx, LOOKUPS, true, true, f);
        if ( lg == 6 )
            memcpy(res->lookup[HOT], f, sizeof(f));
        if ( (1UL << lg) == GIB_PFNS )
            memcpy(res->lookup[GIB], f, sizeof(f));
        if ( (1UL << lg) == BOOTED_PFNS )
            memcpy(res->lookup[GIB64], f, sizeof(f));
    }
}

/* pfns 0 .. 1 GiB in order: what the hardware prefetchers like best. */
static void booted_scan(uint32_t *idx)
{
    unsigned long i;

    for ( i = 0; i < GIB_PFNS; i++ )
        idx[i] = i;
    measure_set(set_name[SEQ], GIB_PFNS, idx, GIB_PFNS, true, false,
                res->lookup[SEQ]);
}

/*
 * p2m_set into chunks that have a private leaf already: the check, the
 * walk to the leaf behind the chunk, one store.  Each pass writes another
 * mfn; the last puts the boot values back.
 */
static void booted_set_private(uint32_t *idx)
{
    double ns[REPS], tk[REPS];
    unsigned long i, fills;
    uint64_t t0, c0;
    unsigned int r;

    random_below(idx, PRIVATE_PFNS, GIB_PFNS);
    fills = fills_now();
    for ( r = 0; r <= REPS; r++ )
    {
        unsigned long delta = r == REPS ? 0 : (r + 1UL) << 34;

        t0 = now_ns();
        c0 = tsc();
        for ( i = 0; i < PRIVATE_PFNS; i++ )
            if ( p2m_set(_pfn(idx[i]), BOOT_MFN(idx[i]) + delta) )
                die("p2m_set(%#x)", idx[i]);
        if ( r < REPS )
        {
            tk[r] = (double)(tsc() - c0) / PRIVATE_PFNS;
            ns[r] = (double)(now_ns() - t0) / PRIVATE_PFNS;
        }
    }
    res->set_private.valid = true;
    res->set_private.fills = fills_now() - fills;
    summarise(ns, REPS, &res->set_private.ns, &res->set_private.ns_min,
              &res->set_private.ns_max);
    summarise(tk, REPS, &res->set_private.tsc, &res->set_private.tsc_min,
              &res->set_private.tsc_max);
    emit("set.private_leaf pfns=%lu ns=%.2f min=%.2f max=%.2f tsc=%.1f "
         "reps=%u fills=%lu", PRIVATE_PFNS, res->set_private.ns,
         res->set_private.ns_min, res->set_private.ns_max,
         res->set_private.tsc, REPS, res->set_private.fills);
}

static void run_booted(void)
{
    unsigned long *list = flat_alloc(BOOTED_PFNS), pfn;
    uint32_t *idx = malloc(MAX(LOOKUPS, GIB_PFNS) * sizeof(*idx));
    int rc;

    if ( !idx )
        die("no memory for the index array");
    res->build_ms[0] = build(BOOTED_PFNS, BOOTED_PFNS, booted_entry);
    emit("build.booted64g pfns=%lu ms=%.1f", BOOTED_PFNS, res->build_ms[0]);
    measure_memory("booted64g", BOOTED_PFNS, &res->booted);

    for ( pfn = 0; pfn < BOOTED_PFNS; pfn++ )
        list[pfn] = booted_entry(pfn);
    flat = list;
    if ( (rc = p2m_tree_build(&tree, list, BOOTED_PFNS, &tree_pages)) != 0 )
        die("p2m_tree_build: %d", rc);

    booted_sweep(idx);
    booted_scan(idx);
    booted_set_private(idx);
}

/* ---- the sparse layout ---- */

/*
 * SPARSE_ISLANDS islands of 1 to 16 chunks, one at a random place in
 * each 2 GiB of the 1 TiB span; returns the populated pfns.
 */
static unsigned long place_islands(void)
{
    unsigned long slot_chunks = SPARSE_PFNS / P2M_PER_PAGE / SPARSE_ISLANDS;
    unsigned long s, c, len, first, populated = 0;

    island = calloc(SPARSE_PFNS / P2M_PER_PAGE, 1);
    if ( !island )
        die("no memory for the island map");
    for ( s = 0; s < SPARSE_ISLANDS; s++ )
    {
        len = 1 + next_random() % 16;
        first = s * slot_chunks + next_random() % (slot_chunks - len);
        for ( c = first; c < first + len; c++ )
            island[c] = 1;
        populated += len * P2M_PER_PAGE;
    }
    return populated;
}

/* n random populated pfns: a random populated chunk, a random entry. */
static void random_populated(uint32_t *idx, unsigned long n)
{
    unsigned long nr_chunks = SPARSE_PFNS / P2M_PER_PAGE, c, i, k = 0;
    uint32_t *chunks = malloc(nr_chunks * sizeof(*chunks));

    if ( !chunks )
        die("no memory for the chunk list");
    for ( c = 0; c < nr_chunks; c++ )
        if ( island[c] )
            chunks[k++] = c;
    for ( i = 0; i < n; i++ )
        idx[i] = chunks[next_random() % k] * P2M_PER_PAGE +
                 next_random() % P2M_PER_PAGE;
    free(chunks);
}

/* The first GiB with no island past the middle of the span. */
static unsigned long free_gib(void)
{
    unsigned long g, c;

    for ( g = SPARSE_PFNS / GIB_PFNS / 2; g < SPARSE_PFNS / GIB_PFNS; g++ )
    {
        for ( c = 0; c < GIB_PFNS / P2M_PER_PAGE; c++ )
            if ( island[g * (GIB_PFNS / P2M_PER_PAGE) + c] )
                break;
        if ( c == GIB_PFNS / P2M_PER_PAGE )
            return g * GIB_PFNS;
    }
    die("no free GiB in the sparse span");
}

/* One pass of p2m_set over SET_PFNS pfns from first; ns per pfn. */
static double set_pass(unsigned long first, bool populate, double *ticks)
{
    uint64_t t0 = now_ns(), c0 = tsc();
    unsigned long i;

    for ( i = 0; i < SET_PFNS; i++ )
        if ( p2m_set(_pfn(first + i), populate ? FRESH_MFN + i
                                               : INVALID_P2M_ENTRY) )
            die("p2m_set(%#lx)", first + i);
    *ticks = (double)(tsc() - c0) / SET_PFNS;
    return (double)(now_ns() - t0) / SET_PFNS;
}

static void put_set_figure(struct figure *f, double *ns, double *tk)
{
    f->valid = true;
    summarise(ns, REPS, &f->ns, &f->ns_min, &f->ns_max);
    summarise(tk, REPS, &f->tsc, &f->tsc_min, &f->tsc_max);
}

/*
 * Populating a missing GiB (a private L1 and a leaf per chunk, each leaf
 * mapped on its first store) and clearing it again (each leaf collapses
 * back to the shared one, then the L1), REPS times.
 */
static void sparse_set(void)
{
    double pop_ns[REPS], pop_tk[REPS], clr_ns[REPS], clr_tk[REPS];
    unsigned long first = free_gib();
    struct host_counts c0, c1, c2;
    unsigned int r;

    for ( r = 0; r < REPS; r++ )
    {
        host_counts(&c0);
        pop_ns[r] = set_pass(first, true, &pop_tk[r]);
        host_counts(&c1);
        clr_ns[r] = set_pass(first, false, &clr_tk[r]);
        host_counts(&c2);
    }
    put_set_figure(&res->set_populate, pop_ns, pop_tk);
    put_set_figure(&res->set_clear, clr_ns, clr_tk);
    res->set_populate.fills = c1.fills - c0.fills;
    res->populate_allocs = c1.allocs - c0.allocs;
    res->clear_frees = c2.frees - c1.frees;
    emit("set.populate pfns=%lu ns=%.2f min=%.2f max=%.2f tsc=%.1f reps=%u "
         "allocs=%lu fills=%lu", SET_PFNS, res->set_populate.ns,
         res->set_populate.ns_min, res->set_populate.ns_max,
         res->set_populate.tsc, REPS, res->populate_allocs,
         res->set_populate.fills);
    emit("set.clear pfns=%lu ns=%.2f min=%.2f max=%.2f tsc=%.1f reps=%u "
         "frees=%lu", SET_PFNS, res->set_clear.ns, res->set_clear.ns_min,
         res->set_clear.ns_max, res->set_clear.tsc, REPS, res->clear_frees);
}

static void run_sparse(void)
{
    unsigned long populated = place_islands(), pfn;
    unsigned long *list = flat_alloc(SPARSE_PFNS);
    uint32_t *idx = malloc(LOOKUPS * sizeof(*idx));

    if ( !idx )
        die("no memory for the index array");
    res->build_ms[1] = build(SPARSE_PFNS, populated, sparse_entry);
    emit("build.sparse1t pfns=%lu populated=%lu ms=%.1f", SPARSE_PFNS,
         populated, res->build_ms[1]);
    measure_memory("sparse1t", SPARSE_PFNS, &res->sparse);

    /* Only the islands are written: the rest of the array stays virtual. */
    for ( pfn = 0; pfn < SPARSE_PFNS; pfn += P2M_PER_PAGE )
        if ( island[pfn / P2M_PER_PAGE] )
        {
            unsigned long i;

            for ( i = 0; i < P2M_PER_PAGE; i++ )
                list[pfn + i] = sparse_entry(pfn + i);
        }
    flat = list;
    random_populated(idx, LOOKUPS);
    measure_set(set_name[SPARSE], SPARSE_PFNS, idx, LOOKUPS, false, false,
                res->lookup[SPARSE]);
    sparse_set();
}

/* ---- the report ---- */

/* "12.3 (12.1-12.9)": median (min-max), or n/a. */
static const char *cell(const struct figure *f, char *buf, size_t len)
{
    if ( !f->valid )
        snprintf(buf, len, "n/a");
    else
        snprintf(buf, len, "%.2f (%.2f-%.2f)", f->ns, f->ns_min, f->ns_max);
    return buf;
}

/* a's median over b's, or n/a. */
static const char *ratio(const struct figure *a, const struct figure *b,
                         char *buf, size_t len)
{
    if ( a->valid && b->valid )
        snprintf(buf, len, "%.2f", a->ns / b->ns);
    else
        snprintf(buf, len, "n/a");
    return buf;
}

static void print_table(void)
{
    char b[5][48];
    const struct figure *f;
    enum mode mo;
    enum set s;

    printf("\nns per lookup, median (min-max) of %u passes; dep: each "
           "lookup waits for the last, ind: independent\n", REPS);
    printf("%-24s %-4s %-22s %-22s %-22s %-8s %s\n", "working set", "mode",
           "tree", "linear", "array", "tree/lin", "lin/array");
    for ( s = 0; s < NR_SETS; s++ )
        for ( mo = 0; mo < NR_MODES; mo++ )
        {
            f = res->lookup[s][mo];
            printf("%-24s %-4s %-22s %-22s %-22s %-8s %s\n", set_what[s],
                   mode_name[mo], cell(&f[TREE], b[0], sizeof(b[0])),
                   cell(&f[LINEAR], b[1], sizeof(b[1])),
                   cell(&f[ARRAY], b[2], sizeof(b[2])),
                   ratio(&f[TREE], &f[LINEAR], b[3], sizeof(b[3])),
                   ratio(&f[LINEAR], &f[ARRAY], b[4], sizeof(b[4])));
        }
}

static void print_summary(void)
{
    const struct memory *m[2] = { &res->booted, &res->sparse };
    const char *what[2] = { "booted 64 GiB", "sparse 1 TiB" };
    unsigned int i;

    print_table();
    printf("\np2m_set, ns per pfn: private leaf %.1f, populate %.1f, "
           "clear %.1f (host backend: mappings are mmap calls)\n",
           res->set_private.ns, res->set_populate.ns, res->set_clear.ns);
    printf("\n%-14s %12s %12s %10s %14s\n", "layout", "pfns", "populated",
           "p2m pages", "flat array");
    for ( i = 0; i < 2; i++ )
        printf("%-14s %12lu %12lu %10lu %14lu\n", what[i], m[i]->pfns,
               m[i]->populated, m[i]->pages, m[i]->flat_pages);
}

/* ---- main ---- */

/* Runs fn in a child: the core builds one p2m per process. */
static void in_child(void (*fn)(void))
{
    int status;
    pid_t pid;

    fflush(NULL);
    pid = fork();
    if ( pid < 0 )
        die("fork");
    if ( pid == 0 )
    {
        fn();
        fflush(NULL);
        _exit(0);
    }
    if ( waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
         WEXITSTATUS(status) )
        die("a benchmark child failed (status %#x)", status);
}

static FILE *open_out(const char *path)
{
    FILE *f = fopen(path, "w");

    if ( !f )
        die("cannot write %s", path);
    return f;
}

/* One CPU for the whole run: no migrations between timed passes. */
static void pin_cpu(void)
{
    cpu_set_t set;
    int cpu = sched_getcpu();

    CPU_ZERO(&set);
    CPU_SET(cpu < 0 ? 0 : cpu, &set);
    sched_setaffinity(0, sizeof(set), &set);
}

int main(int argc, char **argv)
{
    int i;

    for ( i = 1; i + 1 < argc; i += 2 )
        if ( !strcmp(argv[i], "--txt") )
            txt = open_out(argv[i + 1]);
        else if ( !strcmp(argv[i], "--csv") )
            csv = open_out(argv[i + 1]);
        else
            break;
    if ( i < argc )
    {
        fprintf(stderr, "usage: %s [--txt FILE] [--csv FILE]\n", argv[0]);
        return 2;
    }
    res = mmap(NULL, sizeof(*res), PROT_READ | PROT_WRITE,
               MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if ( res == MAP_FAILED )
        die("cannot map the results");
    if ( csv )
        fprintf(csv, "pfns,method,mode,median_ns,min_ns,max_ns\n");
    pin_cpu();
    in_child(run_booted);
    in_child(run_sparse);
    print_summary();
    return 0;
}
