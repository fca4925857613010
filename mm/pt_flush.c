/*
 * Switching trees, and flushing a mapping from every vCPU that may hold
 * it, and from no other (docs/concurrency.md).
 *
 * Structure: running[] says which root each vCPU last switched to (the
 * kernel's until it switches).  A vCPU's TLB can hold a translation of a
 * tree's own L4 slots only while it runs that tree: switching cr3 drops
 * every non-global translation, and pvmm maps nothing global.  The
 * kernel's slots are in every tree, so any vCPU may hold those.
 *
 * Invariant: running[v] is written before vCPU v loads the root (the
 * hypercall orders it), so a flusher that reads running[] after its
 * unmap was issued either sees v on the tree, or v loaded the tree after
 * the unmap and never saw the old entry.  Reading it early only ever
 * flushes a vCPU too many.
 *
 * Not locked: each vCPU writes only its own running[] slot; changing one
 * tree's entries is its owner's business (one vCPU at a time per tree).
 */
#include <pvmm/pt.h>
#include <pvmm/multicall.h>
#include <pvmm/mmu_lazy.h>
#include <pvmm/smp.h>
#include <pvmm/printk.h>

static mfn_t running[SMP_MAX_VCPUS];

static bool runs(unsigned int vcpu, mfn_t root)
{
    mfn_t r = READ_ONCE(running[vcpu]);

    if ( !mfn_x(r) )                        /* never switched */
        r = pt_kernel_root();
    return mfn_eq(r, root);
}

int pt_switch(mfn_t root)
{
    struct mmuext_op op = {
        .cmd = MMUEXT_NEW_BASEPTR,
        .arg1.mfn = mfn_x(root),
    };
    int rc;

    WRITE_ONCE(running[smp_vcpu_id()], root);
    rc = mc_mmuext(&op);
    return rc ? rc : mc_flush();
}

mfn_t pt_running_root(unsigned int vcpu)
{
    return vcpu < SMP_MAX_VCPUS && mfn_x(READ_ONCE(running[vcpu]))
           ? READ_ONCE(running[vcpu]) : pt_kernel_root();
}

/* The vCPUs that may hold a translation of va in root's tree. */
unsigned long pt_flush_mask(mfn_t root, unsigned long va)
{
    unsigned int slot = pt_index(va, 4), v;
    unsigned long mask = 0;

    for ( v = 0; v < smp_nr_vcpus(); v++ )
        if ( !pt_l4_slot_is_private(slot, pt_get_entry(root, slot)) ||
             runs(v, root) )
            mask |= 1UL << v;
    return mask;
}

/*
 * The flush for mask, issued at once: the vCPU bitmap Xen reads for the
 * _MULTI kind must outlive the call, and lives on this stack.
 */
static int invlpg_vcpus(unsigned long va, unsigned long mask)
{
    unsigned long me = 1UL << smp_vcpu_id();
    struct mmuext_op op = { .arg1.linear_addr = va };
    int rc;

    if ( !mask )
        return 0;
    if ( mask == me )
        op.cmd = MMUEXT_INVLPG_LOCAL;
    else if ( mask == (1UL << smp_nr_vcpus()) - 1 )
        op.cmd = MMUEXT_INVLPG_ALL;
    else
    {
        op.cmd = MMUEXT_INVLPG_MULTI;
        set_xen_guest_handle(op.arg2.vcpumask, &mask);
    }
    rc = mc_mmuext(&op);
    return rc ? rc : mc_flush();
}

int pt_unmap_page(mfn_t root, unsigned long va)
{
    mfn_t l1;
    unsigned int index;
    int rc = pt_walk(root, va, 1, &l1, &index);

    if ( rc )
        return rc;
    if ( !(pt_get_entry(l1, index) & _PAGE_PRESENT) )
        return -XEN_ENOENT;
    mmu_lazy_begin();
    rc = pt_set_entry(l1, index, 0);
    if ( !rc )
        rc = mmu_lazy_end();
    else
        (void)mmu_lazy_end();
    return rc ? rc : invlpg_vcpus(va, pt_flush_mask(root, va));
}
