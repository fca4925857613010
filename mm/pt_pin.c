/*
 * Pinning and unpinning a tree.
 *
 * pt_pin(root): walk the tree (never Xen's L4 slots), queue a read-only
 * update of every table page not read-only yet, issue them with one TLB
 * flush, then MMUEXT_PIN_L4_TABLE.  The walk does not descend below a
 * page that is already read-only: by the role invariant (mm/pt_hooks.c)
 * everything under it is too, which is what makes the kernel's shared
 * slots free to pin.
 *
 * pt_unpin(root): MMUEXT_UNPIN_TABLE first (Xen drops its type reference),
 * then make the tree's private pages writable in one batch.  Private pages
 * are those reached through L4 slots that differ from the kernel's.
 *
 * The pin and the unpin go to Xen on their own, apart from the alias
 * updates (two hypercalls, not one), so that after a refusal the roles
 * say exactly what Xen has: PINNED from the pin's or unpin's own result.
 * A refused pin is rolled back (every private page writable again); a
 * refused unpin leaves the tree unpinned with RO re-read from the
 * kernel's PTEs (pt_any_alias_read_only) for every private page, so a
 * retry does just what is left.  PT_ROLE_RO means "some alias is
 * read-only": what must be made writable before the frame is reused.
 *
 * Both are idempotent: a pinned root is not pinned again, an unpinned
 * tree is not unpinned again.
 *
 * Concurrency: a pin or an unpin holds its tree's lock (one of
 * PT_TREE_LOCKS, by the root's pfn), so two vCPUs pinning and unpinning
 * one tree see each other's roles whole.  Distinct trees share only the
 * kernel's slots, which are read-only for good and never walked into
 * (the walk stops at a read-only page), so they need nothing more.
 */
#include <pvmm/pt.h>
#include <pvmm/p2m.h>
#include <pvmm/frame.h>
#include <pvmm/multicall.h>
#include <pvmm/printk.h>
#include <pvmm/panic.h>
#include <pvmm/spinlock.h>

#define PT_TREE_LOCKS   16

static struct spinlock tree_locks[PT_TREE_LOCKS] = {
    [0 ... PT_TREE_LOCKS - 1] = SPINLOCK_INIT("pt tree", LOCK_ORDER_PT_TREE),
};

static struct spinlock *tree_lock(pfn_t root)
{
    return &tree_locks[pfn_x(root) % PT_TREE_LOCKS];
}

/*
 * Queues a read-only update for a table not read-only yet; below one that
 * is, everything is too (the role invariant), so the walk stops there.
 */
static int protect_page(mfn_t mfn, pfn_t pfn, unsigned int level, void *ctx)
{
    int rc;

    if ( pt_role(pfn) & PT_ROLE_RO )
        return PT_WALK_PRUNE;
    rc = pt_protect_aliases(pfn, true);
    pt_role_set(pfn, level | PT_ROLE_RO);
    return rc;
}

/* Queues writable aliases for a page the roles call read-only. */
static int release_page(mfn_t mfn, pfn_t pfn, unsigned int level, void *ctx)
{
    int rc = 0;

    if ( pt_role(pfn) & PT_ROLE_RO )
        rc = pt_protect_aliases(pfn, false);
    pt_role_set(pfn, level);
    return rc;
}

/* After a refused batch: RO where Xen's mappings still say so. */
static int resync_page(mfn_t mfn, pfn_t pfn, unsigned int level, void *ctx)
{
    pt_role_set(pfn, level | (pt_any_alias_read_only(pfn) ? PT_ROLE_RO : 0));
    return 0;
}

/* Queues writable aliases, whatever the roles say. */
static int force_writable(mfn_t mfn, pfn_t pfn, unsigned int level,
                          void *ctx)
{
    pt_role_set(pfn, level);
    return pt_protect_aliases(pfn, false);
}

/* The whole tree, Xen's slots aside; parents first. */
static const struct pt_visit protect_visit = {
    .fn = protect_page, .order = PT_WALK_PRE,
};

/*
 * The pages that are root's own (below its private L4 slots), children
 * before their parent and root last.  The kernel's shared subtrees stay
 * as they are: they are the kernel's, pinned for good.
 */
static const struct pt_visit release_visit = {
    .fn = release_page, .order = PT_WALK_POST, .private_only = true,
};
static const struct pt_visit resync_visit = {
    .fn = resync_page, .order = PT_WALK_POST, .private_only = true,
};
static const struct pt_visit force_writable_visit = {
    .fn = force_writable, .order = PT_WALK_POST, .private_only = true,
};

/* One extended op on its own; 0 or Xen's error. */
static int mmuext_alone(unsigned int cmd, mfn_t mfn)
{
    struct mmuext_op op = { .cmd = cmd, .arg1.mfn = mfn_x(mfn) };
    int rc = mc_mmuext(&op);

    return rc ? rc : mc_flush();
}

/*
 * A refused pin leaves some pages read-only, maybe through one alias and
 * not the other: undo all of it, so that the tree is as it was and a retry
 * starts clean.  Xen refusing to make an unpinned page writable means the
 * roles no longer describe the machine: that cannot be recovered.
 */
static void pin_rollback(mfn_t root)
{
    if ( pt_walk_tree(root, 4, &force_writable_visit) || mc_flush() )
        panic("pt_pin(%#lx): cannot undo a refused pin", mfn_x(root));
}

static int pin_locked(mfn_t root, pfn_t pfn)
{
    int rc;

    if ( pt_role(pfn) & PT_ROLE_PINNED )
        return 0;
    rc = pt_walk_tree(root, 4, &protect_visit);
    if ( !rc )
        rc = mc_flush();
    if ( !rc && (rc = mmuext_alone(MMUEXT_PIN_L4_TABLE, root)) == 0 )
    {
        pt_role_set(pfn, 4 | PT_ROLE_RO | PT_ROLE_PINNED);
        return 0;
    }
    printk("pt_pin(%#lx): Xen refused: %d\n", mfn_x(root), rc);
    pin_rollback(root);
    return rc;
}

int pt_pin(mfn_t root)
{
    pfn_t pfn = mfn_to_pfn(root);
    int rc;

    spin_lock(tree_lock(pfn));
    rc = pin_locked(root, pfn);
    spin_unlock(tree_lock(pfn));
    return rc;
}

/* An L4 with a role, unpinned: a tree the tools would save as data. */
static bool unpinned_root(pfn_t pfn)
{
    unsigned int r = pt_role(pfn);

    return (r & PT_ROLE_LEVEL_MASK) == 4 && !(r & PT_ROLE_PINNED);
}

int pt_pin_all(pfn_t *pinned, unsigned int max, unsigned int *count)
{
    unsigned long pfn;
    int rc = 0;

    *count = 0;
    for ( pfn = 0; pfn < frame_total() && !rc; pfn++ )
    {
        if ( !unpinned_root(_pfn(pfn)) )
            continue;
        if ( *count == max )
        {
            printk("pt_pin_all: more than %u unpinned trees\n", max);
            rc = -XEN_ENOSPC;
        }
        else if ( (rc = pt_pin(pfn_to_mfn(_pfn(pfn)))) == 0 )
            pinned[(*count)++] = _pfn(pfn);
    }
    while ( rc && *count )
        (void)pt_unpin(pfn_to_mfn(pinned[--(*count)]));
    return rc;
}

static int unpin_locked(mfn_t root, pfn_t pfn)
{
    int rc;

    if ( !(pt_role(pfn) & (PT_ROLE_PINNED | PT_ROLE_RO)) )
        return 0;
    if ( (pt_role(pfn) & PT_ROLE_PINNED) &&
         (rc = mmuext_alone(MMUEXT_UNPIN_TABLE, root)) != 0 )
    {
        printk("pt_unpin(%#lx): Xen refused the unpin: %d\n", mfn_x(root),
               rc);
        return rc;                  /* nothing changed */
    }
    pt_role_set(pfn, 4 | PT_ROLE_RO);
    rc = pt_walk_tree(root, 4, &release_visit);
    if ( !rc )
        rc = mc_flush();
    if ( rc )
    {
        /* Unpinned; what is still read-only stays marked for a retry. */
        printk("pt_unpin(%#lx): Xen refused: %d\n", mfn_x(root), rc);
        pt_walk_tree(root, 4, &resync_visit);
    }
    return rc;
}

int pt_unpin(mfn_t root)
{
    pfn_t pfn = mfn_to_pfn(root);
    int rc;

    if ( mfn_eq(root, pt_kernel_root()) )
        return -XEN_EINVAL;         /* the kernel's own tree stays pinned */
    spin_lock(tree_lock(pfn));
    rc = unpin_locked(root, pfn);
    spin_unlock(tree_lock(pfn));
    return rc;
}
