/*
 * Pinning and unpinning a tree.
 *
 * pt_pin(root): walk the tree (never Xen's L4 slots), queue a read-only
 * update of every table page not read-only yet, then MMUEXT_PIN_L4_TABLE,
 * all in one batch with one TLB flush at the end.  The walk does not
 * descend below a page that is already read-only: by the role invariant
 * (mm/pt_hooks.c) everything under it is too, which is what makes the
 * kernel's shared slots free to pin.
 *
 * pt_unpin(root): MMUEXT_UNPIN_TABLE first (Xen drops its type reference),
 * then make the tree's private pages writable; one batch, the unpin ahead
 * of the updates that depend on it.  Private pages are those reached
 * through L4 slots that differ from the kernel's.
 *
 * Both are idempotent: a pinned root is not pinned again, an unpinned
 * tree is not unpinned again.
 */
#include <pvmm/pt.h>
#include <pvmm/p2m.h>
#include <pvmm/multicall.h>
#include <pvmm/printk.h>
#include <pvmm/panic.h>

/* Queues read-only updates for table and its not-yet-read-only subtree. */
static int protect_subtree(mfn_t table, unsigned int level)
{
    pfn_t pfn = mfn_to_pfn(table);
    unsigned int i;
    int rc;

    if ( pt_role(pfn) & PT_ROLE_RO )
        return 0;
    rc = pt_protect_aliases(pfn, true);
    pt_role_set(pfn, level | PT_ROLE_RO);
    for ( i = 0; !rc && level > 1 && i < PT_ENTRIES; i++ )
    {
        pte_t e;

        if ( level == 4 && pt_is_xen_slot(i) )
            continue;
        e = pt_get_entry(table, i);
        if ( e & _PAGE_PRESENT )
            rc = protect_subtree(pte_mfn(e), level - 1);
    }
    return rc;
}

int pt_pin(mfn_t root)
{
    pfn_t pfn = mfn_to_pfn(root);
    struct mmuext_op pin = {
        .cmd = MMUEXT_PIN_L4_TABLE,
        .arg1.mfn = mfn_x(root),
    };
    int rc;

    if ( pt_role(pfn) & PT_ROLE_PINNED )
        return 0;
    rc = protect_subtree(root, 4);
    if ( !rc )
        rc = mc_mmuext(&pin);
    if ( !rc )
        rc = mc_flush();
    if ( rc )
    {
        printk("pt_pin(%#lx): Xen refused: %d\n", mfn_x(root), rc);
        return rc;
    }
    pt_role_set(pfn, 4 | PT_ROLE_RO | PT_ROLE_PINNED);
    return 0;
}

/* Queues writable updates for a private, read-only subtree. */
static int release_subtree(mfn_t table, unsigned int level)
{
    pfn_t pfn = mfn_to_pfn(table);
    unsigned int i;
    int rc = 0;

    if ( !(pt_role(pfn) & PT_ROLE_RO) )
        return 0;
    for ( i = 0; level > 1 && !rc && i < PT_ENTRIES; i++ )
    {
        pte_t e = pt_get_entry(table, i);

        if ( e & _PAGE_PRESENT )
            rc = release_subtree(pte_mfn(e), level - 1);
    }
    if ( !rc )
        rc = pt_protect_aliases(pfn, false);
    pt_role_set(pfn, level);
    return rc;
}

int pt_unpin(mfn_t root)
{
    mfn_t kroot = pt_kernel_root();
    pfn_t pfn = mfn_to_pfn(root);
    struct mmuext_op unpin = {
        .cmd = MMUEXT_UNPIN_TABLE,
        .arg1.mfn = mfn_x(root),
    };
    unsigned int i;
    int rc = 0;

    if ( mfn_eq(root, kroot) )
        return -XEN_EINVAL;         /* the kernel's own tree stays pinned */
    if ( !(pt_role(pfn) & (PT_ROLE_PINNED | PT_ROLE_RO)) )
        return 0;
    if ( pt_role(pfn) & PT_ROLE_PINNED )
        rc = mc_mmuext(&unpin);
    for ( i = 0; !rc && i < PT_ENTRIES; i++ )
    {
        pte_t e = pt_get_entry(root, i);

        if ( !(e & _PAGE_PRESENT) || pt_is_xen_slot(i) ||
             e == pt_get_entry(kroot, i) )
            continue;
        rc = release_subtree(pte_mfn(e), 3);
    }
    if ( !rc )
        rc = pt_protect_aliases(pfn, false);
    if ( !rc )
        rc = mc_flush();
    if ( rc )
    {
        printk("pt_unpin(%#lx): Xen refused: %d\n", mfn_x(root), rc);
        return rc;
    }
    pt_role_set(pfn, 4);
    return 0;
}
