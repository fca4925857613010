/*
 * Drawing a fuzz run from a seed, and the replay format (fuzz_ops.h).
 */
#define _GNU_SOURCE
#include "fuzz_ops.h"
#include <pvmm/p2m.h>

#include <stdlib.h>
#include <string.h>

#define GIB_PFNS        (1UL << 18)
#define TIB_PFNS        (1UL << 28)
#define SPREAD          (8 * P2M_PER_PAGE)      /* +- 4 chunks */

static const char *const names[] = {
    [FOP_POPULATE] = "populate", [FOP_RELEASE] = "release",
    [FOP_IDENTITY] = "identity", [FOP_BAD_IDENTITY] = "bad-identity",
    [FOP_TRIM] = "trim", [FOP_SUSPEND] = "suspend",
};

unsigned long plan_pfn(const struct fuzz_plan *p, struct rng *r)
{
    unsigned long base = p->cluster[rng_below(r, p->nr_clusters)];
    unsigned long pfn = base + rng_below(r, SPREAD);

    pfn = pfn >= SPREAD / 2 ? pfn - SPREAD / 2 : pfn;
    return MIN(pfn, P2M_MAX_PFNS - 1);
}

static void gen_layout(struct rng *r, struct layout *l)
{
    unsigned long chunks = rng_below(r, 8) ? 1 + rng_below(r, 8)
                                            : 9 + rng_below(r, 40);

    l->dom0 = rng_below(r, 2);
    l->linear = rng_below(r, 2);
    l->size = chunks * P2M_PER_PAGE - rng_below(r, 300);
    l->hole_start = l->size / 4 + rng_below(r, l->size / 4 + 1);
    l->hole_end = l->hole_start + rng_below(r, l->size / 3 + 1);
    l->missing_start = rng_below(r, l->size);
    l->missing_end = l->missing_start +
                     (rng_below(r, 3) ? 0 : rng_below(r, 700));
}

/* Where things happen: the edges of what the structure is made of. */
static void gen_plan(struct rng *r, const struct layout *l,
                     struct fuzz_plan *p)
{
    const unsigned long places[] = {
        0, l->size, ROUNDUP(l->size, P2M_PER_PAGE), /* the first to grow */
        l->hole_start, l->hole_end, GIB_PFNS, 7 * GIB_PFNS,
        P2M_FRAME_LIST_PFNS, P2M_FRAME_LIST_PFNS - GIB_PFNS,
        (1 + rng_below(r, 255)) * TIB_PFNS, (1 + rng_below(r, 255)) * TIB_PFNS,
        rng_below(r, P2M_MAX_PFNS), P2M_MAX_PFNS - 1, P2M_MAX_PFNS / 2,
    };
    unsigned int i;

    p->nr_clusters = 3 + rng_below(r, FUZZ_CLUSTERS - 2);
    p->cluster[0] = rng_below(r, 2) ? 0 : l->size;
    for ( i = 1; i < p->nr_clusters; i++ )
        p->cluster[i] = places[rng_below(r, sizeof(places) / sizeof(*places))];
}

static unsigned long run_len(struct rng *r)
{
    return rng_below(r, 3) ? 1 : 1 + rng_below(r, 256);
}

/*
 * Now and then a run of whole chunks: chunks all of one shared kind, side
 * by side in one L1, are what collapse and the shared tables are about.
 */
static void maybe_whole_chunks(struct rng *r, struct fuzz_op *op)
{
    if ( rng_below(r, 24) )
        return;
    op->pfn &= ~(P2M_PER_PAGE - 1);
    op->len = P2M_PER_PAGE;
}

static void gen_op(struct rng *r, const struct fuzz_plan *p,
                   struct fuzz_op *op)
{
    unsigned long dice = rng_below(r, 100);

    *op = (struct fuzz_op){ .pfn = plan_pfn(p, r), .fail_alloc = -1,
                            .refuse = -1 };
    if ( dice < 88 )
    {
        op->type = dice < 40 ? FOP_POPULATE
                   : dice < 70 ? FOP_RELEASE : FOP_IDENTITY;
        op->len = run_len(r);
        maybe_whole_chunks(r, op);
    }
    else if ( dice < 95 )
        op->type = FOP_TRIM, op->pfn = 0;
    else if ( dice < 97 )
        op->type = FOP_SUSPEND, op->pfn = 0;
    else if ( dice < 98 )
        op->type = FOP_BAD_IDENTITY, op->len = 1;
    else                            /* at or beyond the p2m's maximum */
        op->type = FOP_POPULATE, op->len = 1,
        op->pfn = P2M_MAX_PFNS + (rng_below(r, 2) ? 0
                                                  : rng_below(r, 1UL << 30));
    if ( op->len && op->pfn + op->len > P2M_MAX_PFNS &&
         op->pfn < P2M_MAX_PFNS )
        op->len = P2M_MAX_PFNS - op->pfn;
    if ( !rng_below(r, 8) )
        op->fail_alloc = (long)rng_below(r, 4);
    if ( !rng_below(r, 12) )
        op->refuse = (long)rng_below(r, 4);
}

/* A run from r: the layout, the plan, then up to nr_ops operations. */
static void generate(struct rng *r, unsigned long seed, unsigned long nr_ops,
                     struct fuzz_run *fr)
{
    unsigned long max;

    memset(fr, 0, sizeof(*fr));
    fr->seed = seed;
    gen_layout(r, &fr->layout);
    gen_plan(r, &fr->layout, &fr->plan);
    /* Big layouts get fewer ops: every op audits every private leaf. */
    max = fr->layout.size > 8 * P2M_PER_PAGE ? nr_ops / 4 : nr_ops;
    fr->ops = calloc(max ? max : 1, sizeof(*fr->ops));
    if ( !fr->ops )
        abort();
    /* An input's ops end with its bytes: zeros would repeat one op. */
    while ( fr->nr_ops < max && (!r->bytes || r->left) )
        gen_op(r, &fr->plan, &fr->ops[fr->nr_ops++]);
}

void fuzz_generate(unsigned long seed, unsigned long nr_ops,
                   struct fuzz_run *fr)
{
    struct rng r = { .s = seed * 0x9e3779b97f4a7c15UL + 1 };

    generate(&r, seed, nr_ops, fr);
}

void fuzz_from_bytes(const uint8_t *data, size_t size, unsigned long max_ops,
                     struct fuzz_run *fr)
{
    struct rng r = { .bytes = data, .left = size };
    uint64_t hash = 0xcbf29ce484222325ULL;      /* FNV-1a */
    size_t i;

    for ( i = 0; i < size; i++ )
        hash = (hash ^ data[i]) * 0x100000001b3ULL;
    generate(&r, hash, max_ops, fr);
}

void fuzz_run_free(struct fuzz_run *fr)
{
    free(fr->ops);
    fr->ops = NULL;
}

void fuzz_write(FILE *f, const struct fuzz_run *fr)
{
    const struct layout *l = &fr->layout;
    const struct fuzz_op *op;
    unsigned long i;

    fprintf(f, "seed %lu\nlayout %s size=%#lx hole=%#lx-%#lx "
            "missing=%#lx-%#lx linear=%d\n", fr->seed, l->dom0 ? "dom0"
            : "domU", l->size, l->hole_start, l->hole_end,
            l->missing_start, l->missing_end, l->linear);
    for ( i = 0; i < fr->plan.nr_clusters; i++ )
        fprintf(f, "cluster %#lx\n", fr->plan.cluster[i]);
    for ( i = 0; i < fr->nr_ops; i++ )
    {
        op = &fr->ops[i];
        fprintf(f, "%s", names[op->type]);
        if ( op->len )
            fprintf(f, " %#lx %lu", op->pfn, op->len);
        if ( op->fail_alloc >= 0 )
            fprintf(f, " fail=%ld", op->fail_alloc);
        if ( op->refuse >= 0 )
            fprintf(f, " refuse=%ld", op->refuse);
        fputc('\n', f);
    }
}

static int op_type(const char *word)
{
    unsigned int i;

    for ( i = 0; i < sizeof(names) / sizeof(*names); i++ )
        if ( !strcmp(word, names[i]) )
            return (int)i;
    return -1;
}

/* The options after an op: fail=N and refuse=N. */
static int op_options(char *rest, struct fuzz_op *op)
{
    char *w;

    for ( w = strtok(rest, " \t"); w; w = strtok(NULL, " \t") )
        if ( sscanf(w, "fail=%ld", &op->fail_alloc) != 1 &&
             sscanf(w, "refuse=%ld", &op->refuse) != 1 )
            return -1;
    return 0;
}

static int parse_op(char *line, struct fuzz_op *op)
{
    char word[32];
    int n = 0, t;

    *op = (struct fuzz_op){ .fail_alloc = -1, .refuse = -1 };
    if ( sscanf(line, "%31s%n", word, &n) != 1 || (t = op_type(word)) < 0 )
        return -1;
    op->type = (enum fuzz_op_type)t;
    line += n;
    if ( t != FOP_TRIM && t != FOP_SUSPEND )
    {
        if ( sscanf(line, "%lx %lu%n", &op->pfn, &op->len, &n) != 2 ||
             !op->len )
            return -1;
        line += n;
    }
    return op_options(line, op);
}

static int parse_line(char *line, struct fuzz_run *fr, unsigned long *cap)
{
    struct layout *l = &fr->layout;
    char kind[8];
    int lin;

    if ( sscanf(line, "seed %lu", &fr->seed) == 1 )
        return 0;
    if ( sscanf(line, "layout %7s size=%lx hole=%lx-%lx missing=%lx-%lx "
                "linear=%d", kind, &l->size, &l->hole_start, &l->hole_end,
                &l->missing_start, &l->missing_end, &lin) == 7 )
    {
        l->dom0 = !strcmp(kind, "dom0");
        l->linear = lin;
        return 0;
    }
    if ( sscanf(line, "cluster %lx",
                &fr->plan.cluster[fr->plan.nr_clusters]) == 1 )
        return ++fr->plan.nr_clusters <= FUZZ_CLUSTERS ? 0 : -1;
    if ( fr->nr_ops == *cap )
    {
        *cap = *cap ? 2 * *cap : 64;
        fr->ops = realloc(fr->ops, *cap * sizeof(*fr->ops));
        if ( !fr->ops )
            abort();
    }
    return parse_op(line, &fr->ops[fr->nr_ops++]);
}

int fuzz_read(const char *path, struct fuzz_run *fr)
{
    FILE *f = fopen(path, "r");
    char line[256], *hash;
    unsigned long cap = 0, no = 0;

    memset(fr, 0, sizeof(*fr));
    if ( !f )
    {
        perror(path);
        return -1;
    }
    while ( fgets(line, sizeof(line), f) )
    {
        no++;
        if ( (hash = strchr(line, '#')) )
            *hash = '\0';
        line[strcspn(line, "\n")] = '\0';
        if ( strspn(line, " \t") == strlen(line) )
            continue;
        if ( parse_line(line, fr, &cap) )
        {
            fprintf(stderr, "%s:%lu: cannot read '%s'\n", path, no, line);
            fclose(f);
            return -1;
        }
    }
    fclose(f);
    if ( !fr->layout.size || !fr->plan.nr_clusters )
    {
        fprintf(stderr, "%s: needs a layout and a cluster line\n", path);
        return -1;
    }
    return 0;
}
