/*
 * A picture of the linear p2m, as text on the console (`p2m_map` on the
 * command line); tools/p2m-map turns it into an SVG.
 *
 * What it prints, every line starting "P2M-MAP " and under 150 columns:
 *
 *   P2M-MAP begin label=L size=S populated=N nr_pages=P
 *   P2M-MAP shared missing=M identity=I missing_pte=M1 identity_pte=I1
 *           missing_pmd=M2 identity_pmd=I2     (one line; mfns, hex)
 *   P2M-MAP l2 h=H                             a private L2 (512 GiB)
 *   P2M-MAP l2 h=H[-H2] shared=identity        on the shared identity_pmd
 *   P2M-MAP gig g=G[-G2] l1=missing|identity   GiBs on a shared L1
 *   P2M-MAP gig g=G l1=private chunks=RUNS     its 512 chunks, in runs
 *   P2M-MAP gig g=G more=RUNS                  (runs that did not fit)
 *   P2M-MAP end label=L leaves=N l1=N l2=N frame_list=N missing_maps=N
 *           identity_maps=N shared_l1_maps=N shared_l2_maps=N
 *
 * RUNS is a comma-separated list of KIND*COUNT, KIND one of P (private
 * leaf), M (p2m_missing), I (p2m_identity).  A 512 GiB range without an
 * "l2" line is on the shared missing_pmd.  The end line is the kernel's
 * own accounting (p2m_get_stats), which the tool checks its grid against.
 *
 * It only reads, through p2m_walk: O(private pages), however sparse.
 * Not locked: call it where nothing changes the p2m (boot, between tests).
 * Part of the portable core: it prints through p2m_be_log only.
 */
#include "p2m_internal.h"

#define LINE_RUNS   10      /* runs per line: "P*512," is at most 6 */

enum { RUN_PRIVATE, RUN_MISSING, RUN_IDENTITY };

static const char run_letter[] = { 'P', 'M', 'I' };

/*
 * The GiB being collected (the kind of each of its 512 chunks), and the
 * run of shared GiBs not printed yet.
 */
struct map_state {
    unsigned long gig, last_l2;
    unsigned int nr;
    uint8_t kind[P2M_PER_PAGE];
    unsigned long shared_first, shared_end;     /* [first, end) */
    bool shared_identity;
    unsigned long id_l2_first, id_l2_end;       /* identity_pmd run */
};

/* Appends ",K*N" (no comma first in a line) to buf at *len. */
static void append_run(char *buf, size_t *len, bool first, char kind,
                       unsigned int n)
{
    char digits[4];
    unsigned int nd = 0;

    if ( !first )
        buf[(*len)++] = ',';
    buf[(*len)++] = kind;
    buf[(*len)++] = '*';
    do
        digits[nd++] = '0' + n % 10;
    while ( (n /= 10) != 0 );
    while ( nd )
        buf[(*len)++] = digits[--nd];
    buf[*len] = '\0';
}

static void print_runs(const struct map_state *m)
{
    unsigned int i = 0, n, runs = 0;
    char buf[LINE_RUNS * 7 + 1];    /* ",K*512" at most, per run */
    size_t len = 0;

    while ( i < m->nr )
    {
        for ( n = 1; i + n < m->nr && m->kind[i + n] == m->kind[i]; n++ )
            continue;
        append_run(buf, &len, runs % LINE_RUNS == 0, run_letter[m->kind[i]],
                   n);
        i += n;
        if ( ++runs % LINE_RUNS == 0 || i == m->nr )
        {
            p2m_be_log("P2M-MAP gig g=%#lx %s%s\n", m->gig,
                       runs <= LINE_RUNS ? "l1=private chunks=" : "more=",
                       buf);
            len = 0;
        }
    }
}

static void note_l2(struct map_state *m, unsigned long gig)
{
    unsigned long h = gig / P2M_PER_PAGE;

    if ( h != m->last_l2 )
        p2m_be_log("P2M-MAP l2 h=%#lx\n", h);
    m->last_l2 = h;
}

static void flush_shared(struct map_state *m)
{
    if ( m->shared_end == m->shared_first )
        return;
    if ( m->shared_end - m->shared_first == 1 )
        p2m_be_log("P2M-MAP gig g=%#lx l1=%s\n", m->shared_first,
                   m->shared_identity ? "identity" : "missing");
    else
        p2m_be_log("P2M-MAP gig g=%#lx-%#lx l1=%s\n", m->shared_first,
                   m->shared_end - 1, m->shared_identity ? "identity"
                                                         : "missing");
    m->shared_first = m->shared_end;
}

static void flush_gig(struct map_state *m)
{
    flush_shared(m);
    if ( m->nr )
        print_runs(m);
    m->nr = 0;
}

static void map_chunk(struct p2m_walker *w, unsigned long chunk, mfn_t leaf,
                      bool writable)
{
    struct map_state *m = w->ctx;

    (void)writable;
    if ( chunk / P2M_PER_PAGE != m->gig || !m->nr )
    {
        flush_gig(m);
        m->shared_first = m->shared_end = 0;
        m->gig = chunk / P2M_PER_PAGE;
        note_l2(m, m->gig);
    }
    m->kind[m->nr++] = mfn_eq(leaf, p2m_shared.missing) ? RUN_MISSING
                       : mfn_eq(leaf, p2m_shared.identity) ? RUN_IDENTITY
                       : RUN_PRIVATE;
}

static void map_shared_gig(struct p2m_walker *w, unsigned long gig, mfn_t l1)
{
    struct map_state *m = w->ctx;
    bool identity = mfn_eq(l1, p2m_shared.identity_pte);

    if ( m->nr || gig != m->shared_end || identity != m->shared_identity ||
         gig / P2M_PER_PAGE != m->last_l2 )
    {
        flush_gig(m);
        note_l2(m, gig);
        m->shared_first = gig;
        m->shared_identity = identity;
    }
    m->shared_end = gig + 1;
}

static void flush_identity_l2s(struct map_state *m)
{
    if ( m->id_l2_end == m->id_l2_first )
        return;
    if ( m->id_l2_end - m->id_l2_first == 1 )
        p2m_be_log("P2M-MAP l2 h=%#lx shared=identity\n", m->id_l2_first);
    else
        p2m_be_log("P2M-MAP l2 h=%#lx-%#lx shared=identity\n", m->id_l2_first,
                   m->id_l2_end - 1);
    m->id_l2_first = m->id_l2_end;
}

static void map_shared_l2(struct p2m_walker *w, unsigned long h, mfn_t l2)
{
    struct map_state *m = w->ctx;

    if ( !mfn_eq(l2, p2m_shared.identity_pmd) )
        return;
    flush_gig(m);
    if ( h != m->id_l2_end )
    {
        flush_identity_l2s(m);
        m->id_l2_first = h;
    }
    m->id_l2_end = h + 1;
}

void p2m_map_dump(const char *label)
{
    static struct map_state m;
    struct p2m_walker w = { .chunk = map_chunk,
                            .shared_gig = map_shared_gig,
                            .shared_l2 = map_shared_l2, .ctx = &m };
    struct p2m_stats s;

    if ( !p2m_size )
        return;
    m = (struct map_state){ .last_l2 = ~0UL };
    p2m_be_log("P2M-MAP begin label=%s size=%#lx populated=%lu nr_pages=%lu\n",
               label, p2m_size, p2m_nr_populated, p2m_boot_pages);
    p2m_be_log("P2M-MAP shared missing=%#lx identity=%#lx missing_pte=%#lx "
               "identity_pte=%#lx missing_pmd=%#lx identity_pmd=%#lx\n",
               mfn_x(p2m_shared.missing), mfn_x(p2m_shared.identity),
               mfn_x(p2m_shared.missing_pte), mfn_x(p2m_shared.identity_pte),
               mfn_x(p2m_shared.missing_pmd), mfn_x(p2m_shared.identity_pmd));
    p2m_walk(&w);
    flush_gig(&m);
    flush_identity_l2s(&m);
    p2m_get_stats(&s);
    p2m_be_log("P2M-MAP end label=%s leaves=%lu l1=%lu l2=%lu frame_list=%lu "
               "missing_maps=%lu identity_maps=%lu shared_l1_maps=%lu "
               "shared_l2_maps=%lu\n", label, s.private_leaves, s.private_l1,
               s.private_l2, s.frame_list_pages, s.missing_leaf_maps,
               s.identity_leaf_maps, s.shared_l1_maps, s.shared_l2_maps);
}
