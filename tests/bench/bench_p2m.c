/*
 * p2m lookups: the three-level tree walk, the linear p2m, and a bare
 * array load, over one shuffled sequence of populated pfns, after a
 * warm-up; then the slow paths (missing and identity pfns).
 */
#include <pvmm/bench.h>
#include <pvmm/p2m_boot.h>
#include <pvmm/p2m_tree.h>
#include <pvmm/frame.h>
#include <pvmm/directmap.h>
#include <pvmm/time.h>
#include <pvmm/printk.h>

#define LOOKUPS     65536UL
#define SEQ_VA      0x0000200000000000UL    /* L4 slot 64: nothing else */
#define ARRAY_VA    (SEQ_VA + (1UL << 30))

enum method { TREE, LINEAR, ARRAY };

static const char *const method_name[] = { "tree", "linear", "array" };
static struct p2m_tree tree;
static volatile unsigned long sink;


/* xorshift64: the same shuffled sequence in every boot. */
static uint64_t next_random(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static void fill_sequence(unsigned long *seq, unsigned long limit,
                          bool populated)
{
    uint64_t state = 0x9e3779b97f4a7c15ULL;
    unsigned long i, pfn;

    for ( i = 0; i < LOOKUPS; i++ )
    {
        do
            pfn = next_random(&state) % limit;
        while ( p2m_is_populated(_pfn(pfn)) != populated );
        seq[i] = pfn;
    }
}

static uint64_t time_pass(enum method m, const unsigned long *seq,
                          const unsigned long *array)
{
    unsigned long i, acc = 0;
    uint64_t t0 = rdtsc();

    for ( i = 0; i < LOOKUPS; i++ )
    {
        unsigned long pfn = seq[i];

        if ( m == TREE )
            acc ^= p2m_tree_lookup(&tree, pfn);
        else if ( m == LINEAR )
            acc ^= mfn_x(pfn_to_mfn(_pfn(pfn)));
        else
            acc ^= array[pfn];
    }
    sink = acc;
    return rdtsc() - t0;
}

/* Median cycles per lookup for method m (after one warm-up pass). */
static struct summary measure(enum method m, const unsigned long *seq,
                              const unsigned long *array)
{
    uint64_t v[BENCH_REPS];
    unsigned int r;

    (void)time_pass(m, seq, array);
    for ( r = 0; r < BENCH_REPS; r++ )
        v[r] = time_pass(m, seq, array) / LOOKUPS;
    return summarise(v, BENCH_REPS);
}

/* A ratio in hundredths, with its target (">=" or "<=", in hundredths). */
static void print_ratio(const char *name, uint64_t a, uint64_t b,
                        const char *cmp, unsigned long target)
{
    unsigned long r = a * 100 / MAX(b, 1UL);
    bool met = cmp[0] == '>' ? r >= target : r <= target;

    printk("BENCH p2m.lookup.ratio.%s value=%lu.%02lu target%s%lu.%02lu "
           "met=%s\n", name, r / 100, r % 100, cmp, target / 100,
           target % 100, met ? "yes" : "no");
}

static void print_lookup(const char *name, struct summary s)
{
    printk("BENCH p2m.lookup.%s cycles_per_op=%lu ops=%lu reps=%u "
           "min=%lu max=%lu\n", name, s.median, LOOKUPS, BENCH_REPS,
           s.min, s.max);
}

/*
 * A shuffled sequence over the pfns of one kind when they are few (the
 * identity pfns of a hole): collected first, then drawn at random.
 * Returns how many there were (0: none, no sequence).
 */
static unsigned long fill_identity(unsigned long *seq)
{
    uint64_t state = 0x2545f4914f6cdd1dULL;
    unsigned long n = 0, pfn, i;

    for ( pfn = 0; pfn < p2m_size && n < LOOKUPS; pfn++ )
        if ( p2m_entry_is_identity(p2m_get_entry(_pfn(pfn))) )
            seq[n++] = pfn;
    for ( i = n; n && i < LOOKUPS; i++ )
        seq[i] = seq[next_random(&state) % n];
    return n;
}

/* Lookups that miss: missing and identity pfns, and pfns beyond the p2m. */
static void bench_misses(unsigned long *seq)
{
    unsigned long i;

    if ( fill_identity(seq) )
        print_lookup("identity", measure(LINEAR, seq, NULL));

    if ( p2m_nr_populated + LOOKUPS / 64 < p2m_size )
    {
        fill_sequence(seq, p2m_size, false);
        print_lookup("missing", measure(LINEAR, seq, NULL));
    }
    for ( i = 0; i < LOOKUPS; i++ )
        seq[i] = p2m_size + (i * 7919) % (1UL << 20);
    print_lookup("beyond_size_identity", measure(LINEAR, seq, NULL));
}

void bench_p2m(void)
{
    unsigned long n = pfn_x(p2m_populated_end()), i;
    unsigned long seq_pages = LOOKUPS * 8 / PAGE_SIZE;
    unsigned long array_pages = (n * 8 + PAGE_SIZE - 1) / PAGE_SIZE;
    unsigned long *seq = (unsigned long *)SEQ_VA;
    unsigned long *array = (unsigned long *)ARRAY_VA;
    struct summary s[3];
    int rc;

    rc = bench_map_region(SEQ_VA, seq_pages);
    if ( !rc )
        rc = bench_map_region(ARRAY_VA, array_pages);
    if ( !rc )
        rc = p2m_tree_build(&tree, (const unsigned long *)P2M_BASE, n,
                            &p2m_tree_runtime_pages);
    if ( rc )
    {
        bench_fail("p2m lookups: setting up", rc);
        bench_unmap_region(SEQ_VA);
        return;
    }
    for ( i = 0; i < n; i++ )
        array[i] = mfn_x(pfn_to_mfn(_pfn(i)));
    fill_sequence(seq, n, true);

    for ( i = TREE; i <= ARRAY; i++ )
    {
        s[i] = measure(i, seq, array);
        print_lookup(method_name[i], s[i]);
    }
    print_ratio("tree_over_linear", s[TREE].median, s[LINEAR].median,
                ">=", 300);
    print_ratio("linear_over_array", s[LINEAR].median, s[ARRAY].median,
                "<=", 130);
    bench_misses(seq);

    p2m_tree_destroy(&tree, &p2m_tree_runtime_pages);
    bench_unmap_region(SEQ_VA);
}
