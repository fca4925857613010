/*
 * The three-level p2m tree.  See include/pvmm/p2m_tree.h for the shape.
 *
 * Invariant: every top entry points at a mid page, every mid entry at a
 * leaf, so a lookup is three loads and never a NULL check; holes are the
 * shared `missing` leaf (all ~0) and `mid_missing` (all -> missing).
 */
#include <pvmm/p2m_tree.h>
#include <pvmm/xen.h>
#include <pvmm/lib.h>


static int build_shared(struct p2m_tree *t, const struct p2m_tree_pages *pg)
{
    t->top = pg->alloc();
    t->mid_missing = pg->alloc();
    t->missing = pg->alloc();
    if ( !t->top || !t->mid_missing || !t->missing )
        return -XEN_ENOMEM;
    p2m_page_fill(t->missing, ~0UL);
    p2m_page_fill((unsigned long *)t->mid_missing, (unsigned long)t->missing);
    p2m_page_fill((unsigned long *)t->top, (unsigned long)t->mid_missing);
    return 0;
}

/* The leaf for chunk c: into the list, or a padded copy for the tail. */
static unsigned long *leaf_for(struct p2m_tree *t, const unsigned long *list,
                               unsigned long c,
                               const struct p2m_tree_pages *pg)
{
    unsigned long first = c * P2M_PER_PAGE, n = t->nr - first, i;

    if ( n >= P2M_PER_PAGE )
        return (unsigned long *)&list[first];
    t->tail = pg->alloc();
    if ( !t->tail )
        return NULL;
    for ( i = 0; i < P2M_PER_PAGE; i++ )
        t->tail[i] = i < n ? list[first + i] : ~0UL;
    return t->tail;
}

int p2m_tree_build(struct p2m_tree *t, const unsigned long *list,
                   unsigned long nr, const struct p2m_tree_pages *pg)
{
    unsigned long c, chunks = (nr + P2M_PER_PAGE - 1) / P2M_PER_PAGE;
    unsigned long **mid;
    int rc;

    memset(t, 0, sizeof(*t));
    t->nr = nr;
    if ( nr > P2M_TREE_PFNS )
        return -XEN_E2BIG;
    if ( (rc = build_shared(t, pg)) != 0 )
        return rc;

    for ( c = 0; c < chunks; c++ )
    {
        unsigned long ***slot = &t->top[c / P2M_PER_PAGE];

        if ( *slot == t->mid_missing )
        {
            if ( !(mid = pg->alloc()) )
                return -XEN_ENOMEM;
            p2m_page_fill((unsigned long *)mid, (unsigned long)t->missing);
            *slot = mid;
        }
        (*slot)[c % P2M_PER_PAGE] = leaf_for(t, list, c, pg);
        if ( !(*slot)[c % P2M_PER_PAGE] )
            return -XEN_ENOMEM;
    }
    return 0;
}

void p2m_tree_destroy(struct p2m_tree *t, const struct p2m_tree_pages *pg)
{
    unsigned int i;

    if ( !t->top )
        return;
    for ( i = 0; i < P2M_PER_PAGE; i++ )
        if ( t->top[i] != t->mid_missing )
            pg->free(t->top[i]);
    if ( t->tail )
        pg->free(t->tail);
    pg->free(t->missing);
    pg->free(t->mid_missing);
    pg->free(t->top);
    memset(t, 0, sizeof(*t));
}
