/*
 * The three-level p2m tree (mm/p2m_tree.c): the structure pvmm boots with,
 * kept as a small library so the benchmarks can compare its walk with
 * the linear p2m.
 *
 *   top[512] -> mid[512] -> leaf[512]      512^3 pfns = 512 GiB
 *
 * Leaves point into an existing flat array (the builder's mfn_list) and
 * are not copied, except the last one when the array ends mid-leaf: its
 * tail must read INVALID, and the memory after the array is not ours to
 * write.  Holes share one all-INVALID leaf and one mid of such leaves.
 */
#ifndef PVMM_P2M_TREE_H
#define PVMM_P2M_TREE_H

#include <pvmm/p2m.h>

/* Three levels of P2M_PER_PAGE: 2^27 pfns. */
#define P2M_TREE_PFNS   (P2M_PER_PAGE * P2M_PER_PAGE * P2M_PER_PAGE)

struct p2m_tree {
    unsigned long ***top;
    unsigned long **mid_missing;
    unsigned long *missing;
    unsigned long *tail;            /* private copy of the last leaf */
    unsigned long nr;
};

struct p2m_tree_pages {             /* where the tree gets its pages */
    void *(*alloc)(void);           /* a zeroed page, or NULL */
    void (*free)(void *page);
};

/* 0, -XEN_ENOMEM, or -XEN_E2BIG if nr exceeds P2M_TREE_PFNS. */
int p2m_tree_build(struct p2m_tree *t, const unsigned long *list,
                   unsigned long nr, const struct p2m_tree_pages *pages);
void p2m_tree_destroy(struct p2m_tree *t, const struct p2m_tree_pages *pages);

static inline unsigned long p2m_tree_lookup(const struct p2m_tree *t,
                                            unsigned long pfn)
{
    if ( pfn >= P2M_TREE_PFNS )
        return ~0UL;
    return t->top[pfn / (P2M_PER_PAGE * P2M_PER_PAGE)]
                 [pfn / P2M_PER_PAGE % P2M_PER_PAGE][pfn % P2M_PER_PAGE];
}

#endif /* PVMM_P2M_TREE_H */
