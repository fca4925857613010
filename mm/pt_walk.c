/*
 * The one walker over a pagetable tree: pt_walk_tree() (contract in
 * include/pvmm/pt.h).  Learning the kernel tree's roles, pinning,
 * unpinning, freeing and the benchmarks' teardown are all callbacks of it,
 * so which slots a walk may enter is decided here and nowhere else.
 *
 * Structure: none of its own; recursion at most four deep.  Entries are
 * read one at a time through pt_get_entry(), as fn may have changed the
 * tree's mappings (made a page read-only) between two of them.
 *
 * Any vCPU may walk; the tree must not change under the walk except
 * through fn itself, and in post-order fn may free the table it is given
 * (its parent is visited after, and reads nothing of it).
 */
#include <pvmm/pt.h>
#include <pvmm/p2m.h>

bool pt_l4_slot_is_private(unsigned int slot, pte_t e)
{
    return (e & _PAGE_PRESENT) && !pt_is_xen_slot(slot) &&
           e != pt_get_entry(pt_kernel_root(), slot);
}

/* Walks what table's entries point at; stops at the first error. */
static int walk_below(mfn_t table, unsigned int level,
                      const struct pt_visit *v)
{
    unsigned int i;
    pte_t e;
    int rc = 0;

    for ( i = 0; !rc && i < PT_ENTRIES; i++ )
    {
        if ( level == 4 && pt_is_xen_slot(i) )
            continue;
        e = pt_get_entry(table, i);
        if ( level == 4 && v->private_only && !pt_l4_slot_is_private(i, e) )
            continue;
        if ( e & _PAGE_PRESENT )
            rc = pt_walk_tree(pte_mfn(e), level - 1, v);
    }
    return rc;
}

int pt_walk_tree(mfn_t table, unsigned int level, const struct pt_visit *v)
{
    int rc;

    if ( v->order == PT_WALK_PRE )
    {
        rc = v->fn(table, mfn_to_pfn(table), level, v->ctx);
        if ( rc == PT_WALK_PRUNE )
            return 0;
        return rc || level == 1 ? rc : walk_below(table, level, v);
    }
    rc = level > 1 ? walk_below(table, level, v) : 0;
    return rc ? rc : v->fn(table, mfn_to_pfn(table), level, v->ctx);
}
