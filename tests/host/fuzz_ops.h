/*
 * The fuzzer's runs (tests/host/fuzz_ops.c): a boot layout, the places
 * its pfns cluster around, and a sequence of operations; drawn from a
 * seed, or read from a replay file.  Replay format, one item a line
 * ('#' starts a comment):
 *
 *   seed 42
 *   layout dom0|domU size=0x.. hole=0x..-0x.. missing=0x..-0x.. linear=0|1
 *   cluster 0x...                  (up to FUZZ_CLUSTERS)
 *   populate|release|identity|bad-identity 0x<pfn> <len> [fail=N] [refuse=N]
 *   trim|suspend [fail=N] [refuse=N]
 *
 * fail=N fails the N-th page allocation of the operation (0: the first),
 * refuse=N refuses its N-th table update.
 */
#ifndef FUZZ_OPS_H
#define FUZZ_OPS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define FUZZ_CLUSTERS   8

/*
 * Where a run's choices come from: a seed (xorshift64*), or the bytes of
 * a libFuzzer input, read as little as each choice needs, so that a
 * mutated byte changes one choice; an input used up reads as zeros.
 */
struct rng {
    uint64_t s;
    const uint8_t *bytes;           /* NULL: from the seed */
    size_t left;
};

static inline uint64_t rng_from_bytes(struct rng *r, unsigned long n)
{
    uint64_t v = 0;
    unsigned int shift;

    for ( shift = 0; shift < 64 && (n - 1) >> shift; shift += 8 )
        if ( r->left )
            v |= (uint64_t)*r->bytes++ << shift, r->left--;
    return v;
}

static inline uint64_t rng_next(struct rng *r)
{
    r->s ^= r->s >> 12;
    r->s ^= r->s << 25;
    r->s ^= r->s >> 27;
    return r->s * 0x2545f4914f6cdd1dUL;
}

/* A choice in [0, n). */
static inline unsigned long rng_below(struct rng *r, unsigned long n)
{
    if ( !n )
        return 0;
    return (r->bytes ? rng_from_bytes(r, n) : rng_next(r)) % n;
}

struct layout {
    bool dom0;                      /* unwritten reads identity */
    bool linear;                    /* the linear list is published */
    unsigned long size;             /* boot pfns */
    unsigned long hole_start, hole_end;         /* dom0 identity, domU missing */
    unsigned long missing_start, missing_end;   /* missing in RAM */
};

struct fuzz_plan {
    unsigned long cluster[FUZZ_CLUSTERS];
    unsigned int nr_clusters;
};

/* A pfn near one of the plan's clusters. */
unsigned long plan_pfn(const struct fuzz_plan *p, struct rng *r);

enum fuzz_op_type {
    FOP_POPULATE, FOP_RELEASE, FOP_IDENTITY, FOP_BAD_IDENTITY,
    FOP_TRIM, FOP_SUSPEND,
};

struct fuzz_op {
    enum fuzz_op_type type;
    unsigned long pfn, len;         /* len 0 for trim and suspend */
    long fail_alloc, refuse;        /* -1: none */
};

struct fuzz_run {
    unsigned long seed;
    struct layout layout;
    struct fuzz_plan plan;
    struct fuzz_op *ops;
    unsigned long nr_ops;
};

void fuzz_generate(unsigned long seed, unsigned long nr_ops,
                   struct fuzz_run *fr);
/*
 * The same drawing from a libFuzzer input: as many ops as the bytes
 * last, at most max_ops (fewer for big layouts, as for a seed).  The
 * seed is a hash of the bytes (the checks' probes draw from it).
 */
void fuzz_from_bytes(const uint8_t *data, size_t size, unsigned long max_ops,
                     struct fuzz_run *fr);
/* 0, or -1 with a message naming the file and line. */
int fuzz_read(const char *path, struct fuzz_run *fr);
void fuzz_write(FILE *f, const struct fuzz_run *fr);
void fuzz_run_free(struct fuzz_run *fr);

#endif /* FUZZ_OPS_H */
