/*
 * Pagetables (mm/pt.c, mm/pt_walk.c, mm/pt_hooks.c, mm/pt_pin.c): layer 3
 * of mm (mm/LAYERS), on the frame allocator and frame_map.h.
 *
 * Lifecycle, by machine frame: pt_alloc(level) -> mfn or INVALID_MFN;
 * pt_map(mfn) -> va; pt_unmap(va); pt_free(mfn).  Callers check the
 * allocation and only map valid mfns.
 *
 * A tree is either unpinned (its pages are ordinary writable memory,
 * written with plain stores) or pinned (every page read-only through
 * every alias, validated by Xen, changed only through mmu_update).
 * pt_set_entry() does the right thing for either.
 */
#ifndef PVMM_PT_H
#define PVMM_PT_H

#include <pvmm/types.h>
#include <pvmm/pte.h>

#define PT_XEN_FIRST_SLOT   256     /* L4 slots 256-271 are Xen's */
#define PT_XEN_LAST_SLOT    271

/* Flags of an entry that points at a lower-level table. */
#define PT_TABLE_FLAGS  (_PAGE_PRESENT | _PAGE_RW | _PAGE_USER | \
                         _PAGE_ACCESSED | _PAGE_DIRTY)

static inline unsigned int pt_index(unsigned long va, unsigned int level)
{
    return (va >> (PAGE_SHIFT + 9 * (level - 1))) & (PT_ENTRIES - 1);
}

static inline bool pt_is_xen_slot(unsigned int l4_index)
{
    return l4_index >= PT_XEN_FIRST_SLOT && l4_index <= PT_XEN_LAST_SLOT;
}

/*
 * The kernel's own tree (the builder's L4, extended by mm).  Set once, by
 * bootmap_init(), before anything maps or walks a tree.
 */
mfn_t pt_kernel_root(void);
void pt_set_kernel_root(mfn_t root);

mfn_t pt_alloc(unsigned int level);
void *pt_map(mfn_t mfn);
void pt_unmap(const void *va);
void pt_free(mfn_t mfn);

pte_t pt_get_entry(mfn_t table, unsigned int index);

/*
 * Writes entry index of table: a plain store if the table is writable, a
 * queued mmu_update if it is part of a pinned tree (issued at once unless
 * in lazy MMU mode).  Returns 0 or the error of the issued update.
 */
int pt_set_entry(mfn_t table, unsigned int index, pte_t val);

/*
 * Links child (a table of child_level) into entry index of table, running
 * on_pt_alloc first.  0 or -XEN_E*.
 */
int pt_link(mfn_t table, unsigned int index, mfn_t child,
            unsigned int child_level);

/*
 * Finds the level-`level` table whose entry *index covers va in root's
 * tree.  Returns 0, or -XEN_ENOENT if a level above it is not present.
 */
int pt_walk(mfn_t root, unsigned long va, unsigned int level,
            mfn_t *table, unsigned int *index);

/* Maps va -> mfn in root's tree, creating tables as needed. 0 or -XEN_E*. */
int pt_map_page(mfn_t root, unsigned long va, mfn_t mfn, uint64_t flags);

/*
 * Frees the level-`level` table entry e points at and every table below
 * it (not the pages the L1s map), children before their parent.  The
 * subtree must be unlinked already.
 */
void pt_free_subtree(pte_t e, unsigned int level);

/* Frees every private table page of an unpinned tree, root included. */
int pt_free_tree(mfn_t root);

/*
 * Walking a whole tree (mm/pt_walk.c): every operation on all the tables
 * of a tree goes through this one walker.
 *
 * pt_walk_tree(table, level, v) visits table, a level-`level` table, and
 * every table below it, calling v->fn(mfn, pfn, level, v->ctx) once per
 * table page (pfn is mfn_to_pfn(mfn), INVALID_PFN for a foreign frame):
 *  - entries are taken in index order; a non-present one is skipped;
 *  - Xen's L4 slots (256-271) are never entered nor even read;
 *  - with v->private_only, neither are the L4 slots a tree shares with
 *    the kernel's (pt_l4_slot_is_private);
 *  - L1s are visited, not the pages they map (fn may read the L1);
 *  - v->order PT_WALK_PRE: a table before the tables below it.  fn
 *    returns 0 to go down into it, PT_WALK_PRUNE to skip everything
 *    below it (the walk goes on with its siblings), or a negative error;
 *  - PT_WALK_POST: the tables below a table before the table itself
 *    (what freeing and releasing need).  fn returns 0 or an error.
 * A negative return from fn ends the walk at once: nothing more is
 * visited, and pt_walk_tree returns it.  Otherwise it returns 0.
 */
#define PT_WALK_PRUNE   1

enum pt_walk_order { PT_WALK_PRE, PT_WALK_POST };

struct pt_visit {
    int (*fn)(mfn_t mfn, pfn_t pfn, unsigned int level, void *ctx);
    void *ctx;
    enum pt_walk_order order;
    bool private_only;
};

int pt_walk_tree(mfn_t table, unsigned int level, const struct pt_visit *v);

/*
 * Is L4 slot `slot`, holding e, the tree's own: present, not one of Xen's
 * slots, and not the entry the kernel's L4 has there (the kernel's slots
 * are cloned into every L4, and their subtrees are the kernel's)?
 */
bool pt_l4_slot_is_private(unsigned int slot, pte_t e);

/* Pinning (mm/pt_pin.c).  Both are idempotent. */
int pt_pin(mfn_t root);
int pt_unpin(mfn_t root);

/*
 * Before a suspend (docs/suspend.md): pins every tree whose root is an
 * L4 the roles know and that is not pinned, because the tools turn the
 * mfns inside pinned tables into pfns, and only those.  The roots it
 * pinned go to pinned[] (at most max).  0, or an error after unpinning
 * what it pinned: -XEN_ENOSPC if there are more than max, or Xen's.
 */
int pt_pin_all(pfn_t *pinned, unsigned int max, unsigned int *count);

/*
 * Switching and flushing (mm/pt_flush.c).  pt_switch: MMUEXT_NEW_BASEPTR
 * to root (pinned), noting which tree this vCPU runs.
 */
int pt_switch(mfn_t root);
/* The root vCPU vcpu last switched to (the kernel's until it switches). */
mfn_t pt_running_root(unsigned int vcpu);

/*
 * The vCPUs (bit v for vCPU v) that may hold a translation of va in
 * root's tree: all of them for a slot every tree shares with the
 * kernel's, else those running root.
 */
unsigned long pt_flush_mask(mfn_t root, unsigned long va);

/*
 * Unmaps va in root's tree and drops its translation from exactly the
 * vCPUs pt_flush_mask() names (MMUEXT_INVLPG_LOCAL, _MULTI or _ALL).
 * 0, -XEN_ENOENT if nothing was mapped there, or Xen's error.  The L1
 * stays.  Two vCPUs must not change one tree's entries at once.
 */
int pt_unmap_page(mfn_t root, unsigned long va);

/*
 * Per-frame pagetable roles (mm/pt_hooks.c).
 */
#define PT_ROLE_LEVEL_MASK  0x07    /* 0: not a pagetable, else 1-4 */
#define PT_ROLE_RO          0x08    /* read-only: part of a pinned tree */
#define PT_ROLE_PINNED      0x10    /* root pinned with MMUEXT_PIN_L4 */

/*
 * Hooks, at the moment a frame changes role (and nowhere else):
 * on_pt_alloc runs when a page becomes a table of a tree (at pt_alloc for
 * a new root, before the link for other levels): it records the level,
 * gives a new L4 the kernel's slots, and, if the tree is pinned, makes
 * every alias of the page read-only.  on_pt_release runs before a table
 * page returns to the allocator: it makes the page writable again.
 */
void on_pt_alloc(pfn_t pfn, unsigned int level, bool pinned_tree);
void on_pt_release(pfn_t pfn, unsigned int level);

unsigned int pt_role(pfn_t pfn);
void pt_role_set(pfn_t pfn, unsigned int role);

/* Queues making every alias of pfn read-only or writable. */
int pt_protect_aliases(pfn_t pfn, bool read_only);

/*
 * Queues setting every kernel alias of pfn (the direct map, the builder's
 * area) to mode; ALIAS_NONE unmaps them (a frame about to be given back
 * to Xen), ALIAS_RW maps pfn's current frame (one just populated).
 */
enum alias_mode { ALIAS_NONE, ALIAS_RO, ALIAS_RW };
int pt_set_aliases(pfn_t pfn, enum alias_mode mode);

/*
 * Reads the kernel's PTEs (what Xen has, not what a batch may still
 * change): true if some alias of pfn is mapped read-only.  Roles are
 * resynchronised from it after a refused batch.
 */
bool pt_any_alias_read_only(pfn_t pfn);

/* Before the role table exists: frames known to be tables at boot. */
void pt_roles_early_range(pfn_t first, unsigned long count);
/* Allocates the role table and learns the kernel tree's pages. */
int pt_roles_init(void);

#endif /* PVMM_PT_H */
