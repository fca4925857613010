/*
 * PMAP: PMAP_SLOTS fixmap slots for mapping frames the direct map does not
 * cover yet (the pages of the direct map itself, while they are filled).
 *
 * Structure: slot i is the fixmap page FIXMAP_PMAP_FIRST + i, whose PTE
 * lives in the fixmap L1 that mm_init builds and links into the kernel's
 * tree.  That L1 is part of the pinned kernel tree, so slots change only
 * through update_va_mapping, issued at once and alone: the caller uses
 * the mapping right away, and may have a lazy batch of its own open,
 * which a flush here would issue early, callbacks and all.
 *
 * Any vCPU may map: the pmap lock covers the slot table.  A slot's
 * mapping is flushed only from the TLB of the vCPU that changes it, and
 * that is enough: only the vCPU that mapped a slot uses it, between its
 * map and its unmap, and each map and unmap flushes the changing vCPU's
 * own stale entry for the slot (one another vCPU loaded speculatively is
 * dropped by that vCPU's own next map of the slot).
 */
#include <pvmm/pmap.h>
#include <pvmm/layout.h>
#include <pvmm/multicall.h>
#include <pvmm/panic.h>
#include <pvmm/pte.h>
#include <pvmm/p2m.h>
#include <pvmm/printk.h>
#include <pvmm/spinlock.h>

static struct pmap_slot slots[PMAP_SLOTS];
static struct spinlock pmap_lock = SPINLOCK_INIT("pmap", LOCK_ORDER_PMAP);

void pmap_init(void)
{
    unsigned int i;

    for ( i = 0; i < PMAP_SLOTS; i++ )
        slots[i] = (struct pmap_slot){ INVALID_MFN, NULL, false };
}

static void __noreturn pmap_exhausted(void)
{
    char msg[PMAP_SLOTS * 64 + 64];

    pmap_describe_full(msg, sizeof(msg), slots, PMAP_SLOTS);
    panic("%s", msg);
}

static unsigned long slot_va(unsigned int i)
{
    return (unsigned long)fixmap_va(FIXMAP_PMAP_FIRST + i);
}

void *pmap_map_for(mfn_t mfn, bool writable, const char *holder)
{
    uint64_t flags = (writable ? PTE_KERNEL_RW : PTE_KERNEL_RO) | pte_nx;
    unsigned int i;
    int rc;

    spin_lock(&pmap_lock);
    for ( i = 0; i < PMAP_SLOTS; i++ )
        if ( mfn_eq(slots[i].mfn, INVALID_MFN) )
            break;
    if ( i == PMAP_SLOTS )
        pmap_exhausted();

    rc = mc_update_va_mapping_now(slot_va(i), pte_from_mfn(mfn, flags),
                                  UVMF_INVLPG | UVMF_LOCAL);
    if ( rc )
        panic("PMAP: mapping mfn %#lx in slot %u for %s failed: %d",
              mfn_x(mfn), i, holder, rc);
    slots[i] = (struct pmap_slot){ mfn, holder, writable };
    spin_unlock(&pmap_lock);
    return (void *)slot_va(i);
}

/* While suspended: the pfn behind each slot in use (INVALID if free). */
static pfn_t suspended_pfn[PMAP_SLOTS];

int pmap_suspend(void)
{
    unsigned int i;

    for ( i = 0; i < PMAP_SLOTS; i++ )
    {
        bool in_use = !mfn_eq(slots[i].mfn, INVALID_MFN);

        suspended_pfn[i] = in_use ? mfn_to_pfn(slots[i].mfn) : INVALID_PFN;
        if ( in_use && pfn_eq(suspended_pfn[i], INVALID_PFN) )
        {
            printk("PMAP: slot %u (%s) maps mfn %#lx, not the domain's: "
                   "cannot suspend\n", i, slots[i].holder,
                   mfn_x(slots[i].mfn));
            return -XEN_EBUSY;
        }
    }
    return 0;
}

unsigned int pmap_resume(void)
{
    uint64_t flags;
    unsigned int i, n = 0;
    mfn_t mfn;
    int rc;

    for ( i = 0; i < PMAP_SLOTS; i++ )
    {
        if ( pfn_eq(suspended_pfn[i], INVALID_PFN) )
            continue;
        mfn = pfn_to_mfn(suspended_pfn[i]);
        flags = (slots[i].writable ? PTE_KERNEL_RW : PTE_KERNEL_RO) |
                pte_nx;
        rc = mc_update_va_mapping_now(slot_va(i), pte_from_mfn(mfn, flags),
                                      UVMF_INVLPG | UVMF_LOCAL);
        if ( rc )
            panic("PMAP: remapping slot %u (pfn %#lx) after resume: %d", i,
                  pfn_x(suspended_pfn[i]), rc);
        slots[i].mfn = mfn;
        n++;
    }
    return n;
}

bool pmap_owns(const void *va)
{
    unsigned long v = (unsigned long)va;

    return v >= slot_va(0) && v < slot_va(PMAP_SLOTS);
}

void pmap_unmap(const void *va)
{
    unsigned int i = ((unsigned long)va - slot_va(0)) >> PAGE_SHIFT;
    int rc;

    spin_lock(&pmap_lock);
    BUG_ON(!pmap_owns(va) || mfn_eq(slots[i].mfn, INVALID_MFN));
    rc = mc_update_va_mapping_now(slot_va(i), 0, UVMF_INVLPG | UVMF_LOCAL);
    if ( rc )
        panic("PMAP: clearing slot %u (mfn %#lx) failed: %d", i,
              mfn_x(slots[i].mfn), rc);
    slots[i] = (struct pmap_slot){ INVALID_MFN, NULL, false };
    spin_unlock(&pmap_lock);
}
