/*
 * The fuzzer's model: see fuzz_model.h.  Four hash maps with the same
 * code: entries by pfn, and counters by chunk, GiB and 512 GiB.  A
 * counter record {real, other} says how many of the 512 pieces below
 * are private (or hold a real entry) and how many are wholly the other
 * shared kind; a piece with neither has no record.
 */
#include "fuzz_model.h"
#include <pvmm/p2m.h>
#include <stdlib.h>
#include <string.h>

#define PER     512UL

struct slot {
    unsigned long key, a, b;
    bool used;
};

struct map {
    struct slot *s;
    unsigned long cap, n;
};

static struct map entries, chunks, gigs, l2s;

/* Fibonacci hashing: the top bits of k times 2^64 / phi. */
static unsigned long hash(unsigned long k)
{
    return (k * 0x9e3779b97f4a7c15UL) >> 32;
}

static struct slot *find(const struct map *m, unsigned long key)
{
    unsigned long i;

    if ( !m->cap )
        return NULL;
    for ( i = hash(key) & (m->cap - 1); m->s[i].used;
          i = (i + 1) & (m->cap - 1) )
        if ( m->s[i].key == key )
            return &m->s[i];
    return NULL;
}

static void grow(struct map *m);

static struct slot *insert(struct map *m, unsigned long key)
{
    struct slot *s = find(m, key);
    unsigned long i;

    if ( s )
        return s;
    if ( 2 * (m->n + 1) > m->cap )
        grow(m);
    for ( i = hash(key) & (m->cap - 1); m->s[i].used;
          i = (i + 1) & (m->cap - 1) )
        ;
    m->s[i] = (struct slot){ .key = key, .used = true };
    m->n++;
    return &m->s[i];
}

static void grow(struct map *m)
{
    struct map old = *m;
    unsigned long i;

    m->cap = old.cap ? 2 * old.cap : 1024;
    m->s = calloc(m->cap, sizeof(*m->s));
    if ( !m->s )
        abort();
    m->n = 0;
    for ( i = 0; i < old.cap; i++ )
        if ( old.s[i].used )
            *insert(m, old.s[i].key) = old.s[i];
    free(old.s);
}

/* Linear probing's deletion: move later members of the run back. */
static void erase(struct map *m, struct slot *s)
{
    unsigned long i = (unsigned long)(s - m->s), j = i, home;

    m->s[i].used = false;
    m->n--;
    for ( ;; )
    {
        j = (j + 1) & (m->cap - 1);
        if ( !m->s[j].used )
            return;
        home = hash(m->s[j].key) & (m->cap - 1);
        /* Stay if home lies cyclically in (i, j]. */
        if ( i <= j ? (home > i && home <= j) : (home > i || home <= j) )
            continue;
        m->s[i] = m->s[j];
        m->s[j].used = false;
        i = j;
    }
}

static void map_free(struct map *m)
{
    free(m->s);
    memset(m, 0, sizeof(*m));
}

void model_init(struct model *m, bool unwritten_identity)
{
    memset(m, 0, sizeof(*m));
    m->unwritten_identity = unwritten_identity;
    map_free(&entries);
    map_free(&chunks);
    map_free(&gigs);
    map_free(&l2s);
}

void model_free(struct model *m)
{
    model_init(m, false);
}

static unsigned long unwritten(const struct model *m, unsigned long pfn)
{
    return m->unwritten_identity ? IDENTITY_FRAME(pfn) : INVALID_P2M_ENTRY;
}

unsigned long model_get(const struct model *m, unsigned long pfn)
{
    const struct slot *s = find(&entries, pfn);

    return s ? s->a : unwritten(m, pfn);
}

/* The kind of a piece from its record: 0 real, 1 other, 2 unwritten. */
enum piece { P_REAL, P_OTHER, P_UNWRITTEN };

static enum piece piece_of(const struct map *map, unsigned long key)
{
    const struct slot *s = find(map, key);

    if ( !s )
        return P_UNWRITTEN;
    if ( s->a )
        return P_REAL;
    return s->b == PER ? P_OTHER : P_REAL;  /* a mix of the two kinds */
}

/* Moves one member of record `key` from kind `from` to kind `to`. */
static void count(struct map *map, unsigned long key, enum piece from,
                  enum piece to)
{
    struct slot *s = insert(map, key);

    s->a += (to == P_REAL) - (from == P_REAL);
    s->b += (to == P_OTHER) - (from == P_OTHER);
    if ( !s->a && !s->b )
        erase(map, s);
}

static unsigned long *total(struct model *m, unsigned int level)
{
    return level == 1 ? &m->priv_leaves
         : level == 2 ? &m->priv_l1 : &m->priv_l2;
}

/*
 * Level `level` piece `key` changed kind from `from` to `to` (a chunk for
 * level 1): the record one level up changes, and so on while kinds change.
 */
static void propagate(struct model *m, unsigned int level, unsigned long key,
                      enum piece from, enum piece to)
{
    static struct map *const up[] = { NULL, &gigs, &l2s, NULL };
    enum piece up_from, up_to;

    *total(m, level) += (to == P_REAL) - (from == P_REAL);
    if ( level == 2 && to == P_REAL && key < PER )
        m->mid_needed[key] = 1;
    if ( level == 3 || from == to )
        return;
    up_from = piece_of(up[level], key / PER);
    count(up[level], key / PER, from, to);
    up_to = piece_of(up[level], key / PER);
    if ( up_from != up_to )
        propagate(m, level + 1, key / PER, up_from, up_to);
}

static enum piece entry_piece(const struct model *m, unsigned long pfn,
                              unsigned long e)
{
    if ( e == unwritten(m, pfn) )
        return P_UNWRITTEN;
    return p2m_entry_is_populated(e) ? P_REAL : P_OTHER;
}

void model_set(struct model *m, unsigned long pfn, unsigned long e)
{
    unsigned long old = model_get(m, pfn), c = pfn / PER;
    enum piece from = entry_piece(m, pfn, old), to = entry_piece(m, pfn, e);
    enum piece cf, ct;

    m->populated += p2m_entry_is_populated(e);
    m->populated -= p2m_entry_is_populated(old);
    if ( to == P_UNWRITTEN )
    {
        struct slot *s = find(&entries, pfn);

        if ( s )
            erase(&entries, s);
    }
    else
        insert(&entries, pfn)->a = e;
    if ( from == to )
        return;
    cf = piece_of(&chunks, c);
    count(&chunks, c, from, to);
    ct = piece_of(&chunks, c);
    if ( cf != ct )
        propagate(m, 1, c, cf, ct);
}

enum model_kind model_chunk_kind(const struct model *m, unsigned long c)
{
    enum piece p = piece_of(&chunks, c);
    bool id = m->unwritten_identity;

    if ( p == P_REAL )
        return MK_REAL;
    return (p == P_OTHER) != id ? MK_IDENTITY : MK_MISSING;
}

unsigned long model_trimmed_size(const struct model *m)
{
    unsigned long i, end = 0, size;

    for ( i = 0; i < chunks.cap; i++ )
        if ( chunks.s[i].used && chunks.s[i].key + 1 > end )
            end = chunks.s[i].key + 1;
    size = end * PER > m->built_size ? end * PER : m->built_size;
    return size < m->size ? size : m->size;
}

void model_for_each(const struct model *m,
                    void (*fn)(unsigned long pfn, unsigned long e, void *),
                    void *ctx)
{
    unsigned long i;

    (void)m;
    for ( i = 0; i < entries.cap; i++ )
        if ( entries.s[i].used )
            fn(entries.s[i].key, entries.s[i].a, ctx);
}

unsigned long model_stored(const struct model *m)
{
    (void)m;
    return entries.n;
}
