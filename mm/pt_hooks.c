/*
 * Per-frame pagetable roles, and the two hooks that change them.
 *
 * Structure: role[pfn] is one byte per pfn < nr_pages: the level of the
 * table the frame holds (0 if none), PT_ROLE_RO if the frame belongs to a
 * pinned tree (and is therefore read-only through every alias), and
 * PT_ROLE_PINNED on a root pinned with MMUEXT_PIN_L4_TABLE.
 *
 * Invariants:
 *  - a frame with PT_ROLE_RO has no writable mapping anywhere;
 *  - below a PT_ROLE_RO table every table is PT_ROLE_RO too, so a walk
 *    can stop at one (that is how pinning skips the kernel's shared
 *    subtrees);
 *  - only on_pt_alloc, on_pt_release, pt_pin and pt_unpin change roles.
 *
 * Before the role table exists (while the direct map is being built) the
 * only tables are the builder's, the fixmap L1 and the direct map's own;
 * they are kept as a few pfn ranges and the table is filled from the
 * kernel's tree once it can be allocated.
 */
#include <pvmm/pt.h>
#include <pvmm/frame.h>
#include <pvmm/frame_map.h>
#include <pvmm/p2m.h>
#include <pvmm/multicall.h>
#include <pvmm/panic.h>
#include <pvmm/lib.h>

#define MAX_EARLY_RANGES 4

static uint8_t *role;
static struct {
    unsigned long first, count;
} early_ranges[MAX_EARLY_RANGES];
static unsigned int nr_early_ranges;

void pt_roles_early_range(pfn_t first, unsigned long count)
{
    BUG_ON(nr_early_ranges == MAX_EARLY_RANGES);
    early_ranges[nr_early_ranges].first = pfn_x(first);
    early_ranges[nr_early_ranges].count = count;
    nr_early_ranges++;
}

static unsigned int early_role(unsigned long pfn)
{
    unsigned int i;

    for ( i = 0; i < nr_early_ranges; i++ )
        if ( pfn - early_ranges[i].first < early_ranges[i].count )
            return PT_ROLE_RO;
    return 0;
}

unsigned int pt_role(pfn_t pfn)
{
    if ( !role )
        return early_role(pfn_x(pfn));
    return pfn_x(pfn) < frame_total() ? role[pfn_x(pfn)] : 0;
}

void pt_role_set(pfn_t pfn, unsigned int r)
{
    if ( role )
        role[pfn_x(pfn)] = r;
}

/* The PTE an alias of pfn should have. */
static pte_t alias_pte(pfn_t pfn, enum alias_mode mode)
{
    if ( mode == ALIAS_NONE )
        return 0;
    return pte_from_mfn(pfn_to_mfn(pfn),
                        (mode == ALIAS_RO ? PTE_KERNEL_RO : PTE_KERNEL_RW) |
                        pte_nx);
}

/* Queues an mmu_update of the L1 entry that maps va in the kernel tree. */
static int update_kernel_pte(unsigned long va, pte_t pte)
{
    unsigned int index;
    mfn_t l1;
    int rc = pt_walk(pt_kernel_root(), va, 1, &l1, &index);

    if ( rc )
        return rc;
    return mc_mmu_update(((mfn_x(l1) << PAGE_SHIFT) + index * 8) |
                         MMU_NORMAL_PT_UPDATE, pte);
}

/*
 * mmu_update on the alias's PTE rather than update_va_mapping: consecutive
 * mmu_updates share one multicall entry, so protecting N pages costs one
 * entry instead of N (docs/pagetables.md, "Why mmu_update for aliases").
 */
int pt_set_aliases(pfn_t pfn, enum alias_mode mode)
{
    pte_t pte = alias_pte(pfn, mode);
    int rc = 0;

    if ( directmap_covers(pfn) )
        rc = update_kernel_pte((unsigned long)directmap_va(pfn), pte);
    if ( !rc && bootmap_covers(pfn) )
        rc = update_kernel_pte((unsigned long)boot_pfn_to_va(pfn), pte);
    mc_request_tlb_flush();
    return rc;
}

/* Is the kernel PTE that maps va present and read-only, as Xen has it? */
static bool kernel_pte_read_only(unsigned long va)
{
    unsigned int index;
    mfn_t l1;
    pte_t e;

    if ( pt_walk(pt_kernel_root(), va, 1, &l1, &index) )
        return false;
    e = pt_get_entry(l1, index);
    return (e & _PAGE_PRESENT) && !(e & _PAGE_RW);
}

bool pt_any_alias_read_only(pfn_t pfn)
{
    return (directmap_covers(pfn) &&
            kernel_pte_read_only((unsigned long)directmap_va(pfn))) ||
           (bootmap_covers(pfn) &&
            kernel_pte_read_only((unsigned long)boot_pfn_to_va(pfn)));
}

int pt_protect_aliases(pfn_t pfn, bool read_only)
{
    return pt_set_aliases(pfn, read_only ? ALIAS_RO : ALIAS_RW);
}

/* Copies the kernel's L4 slots (all but Xen's and the user half). */
static void clone_kernel_slots(pfn_t pfn)
{
    mfn_t kroot = pt_kernel_root();
    pte_t *dst = pt_map(pfn_to_mfn(pfn));
    const pte_t *src = pt_map(kroot);
    unsigned int i;

    for ( i = PT_XEN_LAST_SLOT + 1; i < PT_ENTRIES; i++ )
        dst[i] = src[i];
    pt_unmap(src);
    pt_unmap(dst);
}

void on_pt_alloc(pfn_t pfn, unsigned int level, bool pinned_tree)
{
    if ( level == 4 )
        clone_kernel_slots(pfn);
    if ( !pinned_tree )
    {
        pt_role_set(pfn, level);
        return;
    }
    if ( pt_protect_aliases(pfn, true) )
        panic("on_pt_alloc: cannot make pfn %#lx read-only", pfn_x(pfn));
    pt_role_set(pfn, level | PT_ROLE_RO);
}

static int make_writable_now(pfn_t pfn)
{
    int rc = pt_protect_aliases(pfn, false);

    return rc ? rc : mc_flush();
}

void on_pt_release(pfn_t pfn, unsigned int level)
{
    unsigned int r = pt_role(pfn);

    BUG_ON(r & PT_ROLE_PINNED);
    /*
     * The alias must be writable before the frame can be reused as data:
     * issue it now rather than leave it in someone else's batch.  One
     * refusal may be passing (Xen short of memory); a second means the
     * frame is still a pagetable somewhere, and the roles are wrong.
     */
    if ( (r & PT_ROLE_RO) && make_writable_now(pfn) &&
         make_writable_now(pfn) )
        panic("on_pt_release: Xen refused to make level-%u pfn %#lx "
              "writable twice; is it still linked into a pinned tree?",
              level, pfn_x(pfn));
    pt_role_set(pfn, 0);
}

/* Marks a table of the kernel's tree read-only: it is pinned. */
static int learn_table(mfn_t table, pfn_t pfn, unsigned int level, void *ctx)
{
    if ( pfn_eq(pfn, INVALID_PFN) )
        panic("kernel pagetable mfn %#lx has no pfn", mfn_x(table));
    role[pfn_x(pfn)] = level | PT_ROLE_RO;
    return 0;
}

static const struct pt_visit learn_visit = {
    .fn = learn_table, .order = PT_WALK_PRE,
};

int pt_roles_init(void)
{
    unsigned long pages = (frame_total() + PAGE_SIZE - 1) / PAGE_SIZE;
    pfn_t first = frame_alloc_contiguous(pages);

    if ( pfn_eq(first, INVALID_PFN) )
        return -XEN_ENOMEM;
    memset(directmap_va(first), 0, pages * PAGE_SIZE);
    role = directmap_va(first);
    pt_walk_tree(pt_kernel_root(), 4, &learn_visit);
    role[pfn_x(mfn_to_pfn(pt_kernel_root()))] |= PT_ROLE_PINNED;
    return 0;
}
