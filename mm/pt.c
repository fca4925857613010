/*
 * Pagetable pages: allocate, map, write, walk, free.
 *
 * The alloc-map-unmap-free lifecycle works on machine frames because that
 * is what pagetable entries hold.  pt_map() reaches the frame through
 * fmap_map() (the direct map, the builder's alias or a PMAP slot); a
 * frame that is part of a pinned tree is mapped read-only if it takes a
 * PMAP slot (Xen refuses a writable mapping of it anyway).
 *
 * Writes go through pt_set_entry(): plain stores into an unpinned tree,
 * mmu_update for a pinned one.  Nothing else in the kernel writes a
 * pagetable entry.
 *
 * State: the kernel's root, set once by bootmap_init() (the builder's L4;
 * this layer does not read the builder's structures).  Who calls it: all
 * of mm above the frame allocator, and tests, on any vCPU: one tree's
 * entries are changed by one vCPU at a time (docs/concurrency.md); the
 * allocator and PMAP have their own locks.
 */
#include <pvmm/pt.h>
#include <pvmm/frame.h>
#include <pvmm/frame_map.h>
#include <pvmm/p2m.h>
#include <pvmm/mmu_lazy.h>
#include <pvmm/multicall.h>
#include <pvmm/printk.h>
#include <pvmm/panic.h>
#include <pvmm/lib.h>

static mfn_t kernel_root = { ~0UL };     /* INVALID_MFN until set */

mfn_t pt_kernel_root(void)
{
    return kernel_root;
}

void pt_set_kernel_root(mfn_t root)
{
    kernel_root = root;
}

static pfn_t pt_pfn(mfn_t mfn)
{
    pfn_t pfn = mfn_to_pfn(mfn);

    if ( pfn_eq(pfn, INVALID_PFN) )
        panic("pagetable mfn %#lx is not one of ours", mfn_x(mfn));
    return pfn;
}

void *pt_map(mfn_t mfn)
{
    pfn_t pfn = pt_pfn(mfn);

    return fmap_map(pfn, mfn, !(pt_role(pfn) & PT_ROLE_RO));
}

void pt_unmap(const void *va)
{
    fmap_unmap(va);
}

mfn_t pt_alloc(unsigned int level)
{
    pfn_t pfn = frame_alloc();
    mfn_t mfn;
    void *va;

    if ( pfn_eq(pfn, INVALID_PFN) )
        return INVALID_MFN;
    mfn = pfn_to_mfn(pfn);
    va = pt_map(mfn);
    memset(va, 0, PAGE_SIZE);
    pt_unmap(va);
    if ( level == 4 )
        on_pt_alloc(pfn, level, false);     /* a new root: unpinned */
    return mfn;
}

void pt_free(mfn_t mfn)
{
    pfn_t pfn = pt_pfn(mfn);

    on_pt_release(pfn, pt_role(pfn) & PT_ROLE_LEVEL_MASK);
    frame_free(pfn);
}

pte_t pt_get_entry(mfn_t table, unsigned int index)
{
    const pte_t *t = pt_map(table);
    pte_t val = t[index];

    pt_unmap(t);
    return val;
}

int pt_set_entry(mfn_t table, unsigned int index, pte_t val)
{
    pte_t *t;
    int rc;

    if ( pt_role(pt_pfn(table)) & PT_ROLE_RO )
    {
        rc = mc_mmu_update(((mfn_x(table) << PAGE_SHIFT) + index * 8) |
                           MMU_NORMAL_PT_UPDATE, val);
        if ( !rc && !mmu_lazy_active() )
            rc = mc_flush();
        return rc;
    }
    t = pt_map(table);
    t[index] = val;
    pt_unmap(t);
    return 0;
}

int pt_link(mfn_t table, unsigned int index, mfn_t child,
            unsigned int child_level)
{
    bool pinned = pt_role(pt_pfn(table)) & PT_ROLE_RO;

    on_pt_alloc(pt_pfn(child), child_level, pinned);
    return pt_set_entry(table, index, pte_from_mfn(child, PT_TABLE_FLAGS));
}

int pt_walk(mfn_t root, unsigned long va, unsigned int level,
            mfn_t *table, unsigned int *index)
{
    mfn_t t = root;
    unsigned int l;
    pte_t e;

    for ( l = 4; l > level; l-- )
    {
        e = pt_get_entry(t, pt_index(va, l));
        if ( !(e & _PAGE_PRESENT) )
            return -XEN_ENOENT;
        if ( e & _PAGE_PSE )
            return -XEN_EOPNOTSUPP;     /* PV guests have no superpages */
        t = pte_mfn(e);
    }
    *table = t;
    *index = pt_index(va, level);
    return 0;
}

int pt_map_page(mfn_t root, unsigned long va, mfn_t mfn, uint64_t flags)
{
    mfn_t table = root, child;
    unsigned int level, i;
    pte_t e;
    int rc;

    for ( level = 4; level > 1; level-- )
    {
        i = pt_index(va, level);
        e = pt_get_entry(table, i);
        if ( !(e & _PAGE_PRESENT) )
        {
            child = pt_alloc(level - 1);
            if ( mfn_eq(child, INVALID_MFN) )
            {
                printk("pt: no free frame for a level-%u table to map %#lx\n",
                       level - 1, va);
                return -XEN_ENOMEM;
            }
            rc = pt_link(table, i, child, level - 1);
            /*
             * The next walk reads this entry back: in lazy mode it must
             * not stay in the batch.  Leaf updates still ride together.
             */
            if ( !rc && mmu_lazy_active() )
                rc = mc_flush();
            if ( rc )
                return rc;
            e = pte_from_mfn(child, PT_TABLE_FLAGS);
        }
        table = pte_mfn(e);
    }
    return pt_set_entry(table, pt_index(va, 1), pte_from_mfn(mfn, flags));
}

static int free_table(mfn_t mfn, pfn_t pfn, unsigned int level, void *ctx)
{
    pt_free(mfn);
    return 0;
}

/* Children before their parent: a table is freed once nothing is below. */
static const struct pt_visit free_visit = {
    .fn = free_table, .order = PT_WALK_POST,
};

/* Kernel slots are shared with the kernel's tree: not ours to free. */
static const struct pt_visit free_private_visit = {
    .fn = free_table, .order = PT_WALK_POST, .private_only = true,
};

void pt_free_subtree(pte_t e, unsigned int level)
{
    pt_walk_tree(pte_mfn(e), level, &free_visit);
}

int pt_free_tree(mfn_t root)
{
    if ( pt_role(pt_pfn(root)) & (PT_ROLE_RO | PT_ROLE_PINNED) )
    {
        printk("pt_free_tree(%#lx): tree is pinned; unpin it first\n",
               mfn_x(root));
        return -XEN_EBUSY;
    }
    return pt_walk_tree(root, 4, &free_private_visit);
}
