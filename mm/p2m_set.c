/*
 * Changing the linear p2m: set, privatise, collapse, grow and trim.
 *
 * p2m_set(pfn, entry) reads as: grow if pfn is past the size, classify
 * what writing entry takes, act on the class:
 *   WRITE_PRIVATE     the chunk has its own leaf: one store;
 *   WRITE_NOTHING     the shared page behind it means entry already;
 *   WRITE_NEEDS_LEAF  privatise: a private leaf (and a private L1 and L2
 *                     where those are shared), filled with what the
 *                     shared pages meant, then the store.
 *
 * Collapse is the inverse: a private leaf that returns to all-missing or
 * all-identity maps the shared leaf of that kind again and is freed, and
 * its L1, then its L2, follow when nothing private is left behind them.
 * Sparse populate/release cycles therefore leave no private pages.
 *
 * Invariants kept here (docs/design.md, "Invariants"):
 *  - nothing is ever written into a shared page;
 *  - a page is freed only once the unlink that drops it has been issued
 *    and accepted: never while the MMU may still reach it;
 *  - a refused step leaves a valid, only larger, structure: the chunk is
 *    remembered and p2m_trim() tries its collapse again;
 *  - structure changes happen with p2m_generation odd; a store into a
 *    private leaf needs no generation change (the tools read it as is).
 *
 * Concurrency (docs/concurrency.md): a store into a leaf that is private
 * takes no lock (p2m_store_begin/end keep structure changes out while it
 * runs); everything else runs under the p2m lock, structure changes with
 * the generation odd.  Callers own their pfns: two vCPUs never set the
 * same pfn at once (the count of populated entries would be off).
 */
#include "p2m_internal.h"

unsigned long p2m_nr_populated;

/* Pages a make_chunk_private() allocated, INVALID_MFN where none. */
struct fresh_pages {
    mfn_t l2, l1, leaf;
};

/*
 * Replaces the shared table of kind k at entry pos of parent (a table of
 * level + 1) by a private copy of it.
 */
static int privatise_table(mfn_t parent, unsigned int level,
                           unsigned long pos, enum p2m_kind k, mfn_t *out)
{
    mfn_t fill = level == 2 ? p2m_shared_l1(k) : p2m_shared_leaf(k);
    mfn_t t = p2m_be_table_alloc(level, fill, false);
    int rc;

    if ( mfn_eq(t, INVALID_MFN) )
        return -XEN_ENOMEM;
    *out = t;
    rc = p2m_be_flush_all();        /* a whole range changes translation */
    rc = rc ? rc : p2m_be_table_seal(t, level);
    return rc ? rc : p2m_be_set_entry(parent, level + 1, pos, t, false);
}

/* Chunk c's L2, made private if it was shared; a new one in *fresh. */
static int private_l2(unsigned long c, mfn_t *l2, mfn_t *fresh)
{
    enum p2m_kind k;
    int rc;

    *l2 = p2m_l2_of(c);
    k = p2m_l2_kind_of(*l2);
    if ( k == KIND_REAL )
        return 0;
    rc = privatise_table(p2m_shared.l3, 2, c / CHUNKS_PER_L2, k, fresh);
    *l2 = *fresh;
    return rc;
}

/*
 * Chunk c's L1 under l2 (private, maybe new and not linked yet: read
 * from the page, not the walk), made private if it was shared.
 */
static int private_l1(unsigned long c, mfn_t l2, mfn_t *l1, mfn_t *fresh)
{
    enum p2m_kind k;
    int rc;

    *l1 = p2m_be_entry(l2, c / CHUNKS_PER_GIG % P2M_PER_PAGE, NULL);
    k = p2m_l1_kind_of(*l1);
    if ( k == KIND_REAL )
        return 0;
    rc = privatise_table(l2, 1, c / CHUNKS_PER_GIG, k, fresh);
    *l1 = *fresh;
    return rc;
}

/* Gives chunk c a private leaf holding what its shared page meant. */
static int private_leaf(unsigned long c, mfn_t l1, enum p2m_kind k,
                        mfn_t *fresh)
{
    unsigned long *va, i;
    mfn_t leaf = p2m_be_page_alloc(&va);
    int rc;

    if ( mfn_eq(leaf, INVALID_MFN) )
        return -XEN_ENOMEM;
    for ( i = 0; i < P2M_PER_PAGE; i++ )
        va[i] = p2m_kind_entry(k, c * P2M_PER_PAGE + i);
    *fresh = leaf;
    rc = p2m_be_set_entry(l1, 1, c, leaf, true);
    return rc ? rc : p2m_be_flush_chunk(c);
}

/* Does entry i of table name child, as the hardware walks it now? */
static bool linked(mfn_t table, unsigned int i, mfn_t child)
{
    return mfn_eq(p2m_be_entry(table, i, NULL), child);
}

#define MAX_PENDING_COLLAPSE    8

static unsigned long pending_collapse[MAX_PENDING_COLLAPSE];
static unsigned int nr_pending_collapse;

static void remember_collapse(unsigned long c)
{
    p2m_be_log("p2m: chunk %#lx stays private for now: its collapse was "
               "refused\n", c);
    if ( nr_pending_collapse < MAX_PENDING_COLLAPSE )
        pending_collapse[nr_pending_collapse++] = c;
}

/*
 * Points entry pos of parent (a level-`level` table) back at a shared
 * page, and flushes; true once nothing maps child, so it may be freed.
 * If the unlink went in and only the flush after it failed, a full flush
 * makes up for it.
 */
static bool unlinked(mfn_t parent, unsigned int level, unsigned long pos,
                     mfn_t shared, mfn_t child)
{
    int rc, end_rc;

    p2m_be_batch_begin();
    rc = p2m_be_set_entry(parent, level, pos, shared, false);
    if ( !rc && level == 1 )
        rc = p2m_be_flush_chunk(pos);
    else if ( !rc )
        rc = p2m_be_flush_all();    /* a whole range changes translation */
    end_rc = p2m_be_batch_end();
    rc = rc ? rc : end_rc;
    if ( rc && !linked(parent, pos % P2M_PER_PAGE, child) )
        rc = p2m_be_flush_all();
    return rc == 0;
}

/* Is t, a private table of level, all entries to one shared page? */
static enum p2m_kind table_kind(mfn_t t, unsigned int level)
{
    enum p2m_kind k, first = KIND_REAL;
    unsigned int i;
    mfn_t e;

    for ( i = 0; i < P2M_PER_PAGE; i++ )
    {
        e = p2m_be_entry(t, i, NULL);
        k = level == 1 ? p2m_leaf_kind_of(e) : p2m_l1_kind_of(e);
        if ( k == KIND_REAL || (i && k != first) )
            return KIND_REAL;
        first = k;
    }
    return first;
}

/*
 * The L1 of chunk c, then its L2, back onto the shared tables if nothing
 * but one kind of shared page is behind them.  0, or -XEN_EBUSY if a
 * step was refused.
 */
static int collapse_tables(unsigned long c)
{
    mfn_t l2 = p2m_l2_of(c), l1 = p2m_l1_of(c);
    unsigned long g = c / CHUNKS_PER_GIG;
    enum p2m_kind k;

    if ( p2m_l2_kind_of(l2) != KIND_REAL )
        return 0;
    if ( p2m_l1_kind_of(l1) == KIND_REAL &&
         (k = table_kind(l1, 1)) != KIND_REAL )
    {
        if ( !unlinked(l2, 2, g, p2m_shared_l1(k), l1) )
            return -XEN_EBUSY;
        p2m_be_table_free(l1);
    }
    if ( (k = table_kind(l2, 2)) != KIND_REAL )
    {
        if ( !unlinked(p2m_shared.l3, 3, c / CHUNKS_PER_L2,
                       p2m_shared_l2(k), l2) )
            return -XEN_EBUSY;
        p2m_be_table_free(l2);
    }
    return 0;
}

static enum p2m_kind leaf_kind(unsigned long c);

/*
 * Chunk c's private leaf back onto the shared leaf of its kind, if it is
 * all one kind once no lock-free store is in flight: one may have landed
 * since the caller looked.
 */
static int collapse_chunk(unsigned long c)
{
    mfn_t l1 = p2m_l1_of(c);
    mfn_t leaf = p2m_be_entry(l1, c % P2M_PER_PAGE, NULL);
    enum p2m_kind k;
    int rc = -XEN_EBUSY;

    p2m_generation_begin();
    k = leaf_kind(c);
    if ( k == KIND_REAL )
        rc = 0;
    else if ( unlinked(l1, 1, c, p2m_shared_leaf(k), leaf) )
    {
        (void)p2m_frames_set_leaf(c, p2m_shared_leaf(k));   /* no alloc */
        p2m_be_page_free(leaf);
        rc = collapse_tables(c);
    }
    p2m_generation_end();
    return rc;
}

/*
 * After a refused make_chunk_private: which new pages went in?  Reading
 * the tables tells.  A new page that is not linked (or is under one that
 * is not) is freed; new tables that are linked but have nothing private
 * behind them are collapsed again.  Returns true if the leaf itself is
 * in: then only a flush after it failed.
 */
static bool drop_unlinked(unsigned long c, const struct fresh_pages *f)
{
    mfn_t l2 = p2m_l2_of(c);
    bool l2_in = mfn_eq(f->l2, INVALID_MFN) || mfn_eq(l2, f->l2);
    bool l1_in = l2_in && (mfn_eq(f->l1, INVALID_MFN) ||
                           linked(l2, c / CHUNKS_PER_GIG % P2M_PER_PAGE,
                                  f->l1));
    bool leaf_in = l1_in && !mfn_eq(f->leaf, INVALID_MFN) &&
                   linked(p2m_l1_of(c), c % P2M_PER_PAGE, f->leaf);

    /* A table before what it names: no page is freed while one holds it. */
    if ( !mfn_eq(f->l2, INVALID_MFN) && !l2_in )
        p2m_be_table_free(f->l2);
    if ( !mfn_eq(f->l1, INVALID_MFN) && !l1_in )
        p2m_be_table_free(f->l1);
    if ( !mfn_eq(f->leaf, INVALID_MFN) && !leaf_in )
        p2m_be_page_free(f->leaf);
    /* The frame list names what the MMU walks now, of whichever kind. */
    (void)p2m_frames_set_leaf(c, leaf_in ? f->leaf : p2m_chunk_leaf(c));
    /* New tables that did go in, with nothing behind them, go back too. */
    if ( !leaf_in && collapse_tables(c) )
        remember_collapse(c);
    return leaf_in;
}

/*
 * Gives chunk c (now of kind k) a private leaf, and a private L1 and L2
 * where those were shared, in one batch.  The frame list's mid page is
 * allocated first, so the last step cannot fail; a refused batch is
 * sorted out by drop_unlinked().
 */
static int make_chunk_private(unsigned long c, enum p2m_kind k)
{
    struct fresh_pages f = { INVALID_MFN, INVALID_MFN, INVALID_MFN };
    mfn_t l2, l1;
    int rc, end_rc;

    if ( (rc = p2m_frames_prepare(c)) != 0 )
        return rc;
    p2m_be_batch_begin();
    rc = private_l2(c, &l2, &f.l2);
    if ( !rc )
        rc = private_l1(c, l2, &l1, &f.l1);
    if ( !rc )
        rc = private_leaf(c, l1, k, &f.leaf);
    end_rc = p2m_be_batch_end();
    rc = rc ? rc : end_rc;
    if ( rc && drop_unlinked(c, &f) )
        rc = p2m_be_flush_all();    /* all linked: make up for the flush */
    if ( !rc )
        (void)p2m_frames_set_leaf(c, f.leaf);   /* prepared: cannot fail */
    return rc;
}

/* Grows p2m_size to cover pfn; every L3 entry is present already. */
static void grow(unsigned long pfn)
{
    p2m_size = ROUNDUP(pfn + 1, P2M_PER_PAGE);
    p2m_frames_set_size(p2m_size);
}

static int check_set(unsigned long pfn, unsigned long entry)
{
    if ( !p2m_size )
    {
        p2m_be_log("p2m_set(%#lx): the p2m is not revectored yet\n", pfn);
        return -XEN_EINVAL;
    }
    if ( pfn >= P2M_MAX_PFNS )
    {
        p2m_be_log("p2m_set(%#lx): beyond the p2m's maximum of %#lx pfns\n",
                   pfn, P2M_MAX_PFNS);
        return -XEN_EINVAL;
    }
    if ( p2m_entry_is_identity(entry) && entry != IDENTITY_FRAME(pfn) )
    {
        p2m_be_log("p2m_set(%#lx): identity entry %#lx names another pfn\n",
                   pfn, entry);
        return -XEN_EINVAL;
    }
    return 0;
}

/* What writing entry at pfn p takes, given the page behind its chunk. */
enum write_kind {
    WRITE_PRIVATE,          /* the chunk has its own leaf: just store */
    WRITE_NOTHING,          /* a shared page already means this entry */
    WRITE_NEEDS_LEAF,       /* a shared page means something else */
};

static enum write_kind write_kind(unsigned long p, unsigned long entry,
                                  enum p2m_kind *k)
{
    *k = p2m_leaf_kind_of(p2m_chunk_leaf(CHUNK_OF(p)));
    if ( *k == KIND_REAL )
        return WRITE_PRIVATE;
    return entry == p2m_kind_entry(*k, p) ? WRITE_NOTHING : WRITE_NEEDS_LEAF;
}

static unsigned long *const linear = (unsigned long *)P2M_BASE;

/*
 * The one store into a private leaf; keeps the populated count, which
 * stores into other pfns change at the same time.
 */
static void store(unsigned long p, unsigned long entry)
{
    long delta = (long)p2m_entry_is_populated(entry) -
                 (long)p2m_entry_is_populated(linear[p]);

    if ( delta )
        __atomic_add_fetch(&p2m_nr_populated, delta, __ATOMIC_RELAXED);
    WRITE_ONCE(linear[p], entry);
}

/* What chunk c's private leaf holds: all one shared kind, or not. */
static enum p2m_kind leaf_kind(unsigned long c)
{
    const unsigned long *leaf = &linear[c * P2M_PER_PAGE];
    unsigned long first = c * P2M_PER_PAGE, i;
    enum p2m_kind k = leaf[0] == INVALID_P2M_ENTRY ? KIND_MISSING
                                                   : KIND_IDENTITY;

    for ( i = 0; i < P2M_PER_PAGE; i++ )
        if ( leaf[i] != p2m_kind_entry(k, first + i) )
            return KIND_REAL;
    return k;
}

/*
 * After a store: a leaf back to one shared kind returns to that page.
 * With the lock held; collapse_chunk() looks again.
 */
static void maybe_collapse(unsigned long c, unsigned long entry)
{
    if ( p2m_entry_is_populated(entry) || leaf_kind(c) == KIND_REAL )
        return;
    if ( collapse_chunk(c) )
        remember_collapse(c);
}

/* Grow, privatise and store: the p2m_set() that changes structure. */
static int set_structure(unsigned long p, unsigned long entry)
{
    enum write_kind wk;
    enum p2m_kind k;
    int rc = 0;

    p2m_generation_begin();         /* tools reading the list must notice */
    if ( p >= p2m_size )
        grow(p);                    /* what is unwritten reads as before */
    wk = write_kind(p, entry, &k);
    if ( wk == WRITE_NEEDS_LEAF &&
         (rc = make_chunk_private(CHUNK_OF(p), k)) != 0 )
        p2m_be_log("p2m_set(%#lx): cannot give chunk %#lx a private leaf: "
                   "%d\n", p, CHUNK_OF(p), rc);
    if ( !rc && wk != WRITE_NOTHING )
        store(p, entry);
    p2m_generation_end();
    return rc;
}

/*
 * The store without the lock, if pfn's leaf is private and no structure
 * change is under way; true if it was made.  A store that may leave the
 * leaf all one kind is not made here: its collapse needs the lock.
 */
static bool store_lock_free(unsigned long p, unsigned long entry)
{
    bool stored = false;

    if ( !p2m_entry_is_populated(entry) || !p2m_store_begin() )
        return false;
    if ( p < READ_ONCE(p2m_size) &&
         p2m_leaf_kind_of(p2m_chunk_leaf(CHUNK_OF(p))) == KIND_REAL )
    {
        store(p, entry);
        stored = true;
    }
    p2m_store_end();
    return stored;
}

static int set_locked(unsigned long p, unsigned long entry)
{
    enum p2m_kind k;

    if ( p >= p2m_size )
        /* Past the size every pfn reads what is unwritten already. */
        return entry == p2m_kind_entry(p2m_unwritten_kind(), p)
               ? 0 : set_structure(p, entry);
    switch ( write_kind(p, entry, &k) )
    {
    case WRITE_NOTHING:
        return 0;
    case WRITE_PRIVATE:
        store(p, entry);
        maybe_collapse(CHUNK_OF(p), entry);
        return 0;
    default:
        return set_structure(p, entry);
    }
}

int p2m_set(pfn_t pfn, unsigned long entry)
{
    unsigned long p = pfn_x(pfn);
    int rc = check_set(p, entry);

    if ( rc || store_lock_free(p, entry) )
        return rc;
    p2m_be_lock();
    rc = set_locked(p, entry);
    p2m_be_unlock();
    return rc;
}

/*
 * For p2m_trim: the end (in chunks) of the last piece that is not what
 * is unwritten (a private leaf, or a shared page of the other kind).
 */
static void note_last_written(struct p2m_walker *w, unsigned long chunk,
                              mfn_t leaf, bool writable)
{
    (void)writable;
    if ( p2m_leaf_kind_of(leaf) != p2m_unwritten_kind() )
        *(unsigned long *)w->ctx = chunk + 1;
}

static void note_written_gig(struct p2m_walker *w, unsigned long g, mfn_t l1)
{
    if ( p2m_l1_kind_of(l1) != p2m_unwritten_kind() )
        *(unsigned long *)w->ctx = (g + 1) * CHUNKS_PER_GIG;
}

static void note_written_l2(struct p2m_walker *w, unsigned long h, mfn_t l2)
{
    if ( p2m_l2_kind_of(l2) != p2m_unwritten_kind() )
        *(unsigned long *)w->ctx = (h + 1) * CHUNKS_PER_L2;
}

/* Collapses refused earlier, tried again while nothing else is queued. */
static void retry_collapses(void)
{
    unsigned int n = nr_pending_collapse;
    unsigned long c;

    nr_pending_collapse = 0;
    while ( n-- )
    {
        c = pending_collapse[n];
        if ( p2m_leaf_kind_of(p2m_chunk_leaf(c)) != KIND_REAL )
        {
            if ( collapse_tables(c) )
                remember_collapse(c);
        }
        else if ( leaf_kind(c) != KIND_REAL )
            maybe_collapse(c, INVALID_P2M_ENTRY);
    }
}

/*
 * Shrinks p2m_size back after releases: to the end of the last piece
 * that holds something other than what is unwritten, never below the
 * built size.  Past p2m_size pfns read what is unwritten, as inside (the
 * structure is unchanged, only the fast path's bound moves), and a p2m back
 * within 512 GiB publishes the three-level frame list again.
 */
void p2m_trim(void)
{
    unsigned long end = 0, size;
    struct p2m_walker w = { .chunk = note_last_written,
                            .shared_gig = note_written_gig,
                            .shared_l2 = note_written_l2, .ctx = &end };

    if ( !p2m_size )
        return;
    p2m_be_lock();
    retry_collapses();
    p2m_walk(&w);
    size = MAX(p2m_built_size, end * P2M_PER_PAGE);
    if ( size < p2m_size )
    {
        p2m_generation_begin();
        p2m_size = size;
        p2m_frames_set_size(size);
        p2m_generation_end();
    }
    p2m_be_unlock();
}
