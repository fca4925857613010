/*
 * pvmm's backend for the portable p2m core (mm/p2m_backend.h has the
 * contract of each call).
 *
 * Pages come from the frame allocator and are reached through the
 * direct map.  Tables are pagetable pages of the kernel's own tree, which
 * is pinned: a table is filled with plain stores while it is private,
 * sealed read-only (on_pt_alloc) before it is linked, and changed after
 * that only through mmu_update, which pt_set_entry() queues in the
 * multicall batch while the core holds one open (lazy MMU mode).  The
 * shared leaves are data pages made read-only in every alias, so that a
 * store through the array faults instead of changing 512 pfns at once.
 * Publishing writes shared_info's arch fields, which Xen's tools read.
 */
#include "p2m_backend.h"
#include <pvmm/p2m.h>
#include <pvmm/pt.h>
#include <pvmm/frame.h>
#include <pvmm/layout.h>
#include <pvmm/multicall.h>
#include <pvmm/mmu_lazy.h>
#include <pvmm/shared_info.h>
#include <pvmm/hypercall.h>
#include <pvmm/printk.h>
#include <pvmm/spinlock.h>

void p2m_be_log(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vprintk(fmt, ap);
    va_end(ap);
}

static pfn_t page_pfn(mfn_t page)
{
    return mfn_to_pfn(page);
}

mfn_t p2m_be_page_alloc(unsigned long **va)
{
    pfn_t pfn = frame_alloc();

    if ( pfn_eq(pfn, INVALID_PFN) )
        return INVALID_MFN;
    *va = directmap_va(pfn);
    return pfn_to_mfn(pfn);
}

unsigned long *p2m_be_page_va(mfn_t page)
{
    return directmap_va(page_pfn(page));
}

void p2m_be_page_free(mfn_t page)
{
    frame_free(page_pfn(page));
}

int p2m_be_page_share(mfn_t page)
{
    pfn_t pfn = page_pfn(page);
    int rc = pt_protect_aliases(pfn, true);

    /* Read-only everywhere, like a table, though it is not one. */
    if ( !rc )
        pt_role_set(pfn, PT_ROLE_RO);
    return rc;
}

bool p2m_be_page_is_free(mfn_t page)
{
    pfn_t pfn = page_pfn(page);

    return pfn_eq(pfn, INVALID_PFN) || frame_is_free(pfn);
}

static pte_t entry_pte(unsigned int level, mfn_t child, bool writable)
{
    if ( mfn_eq(child, INVALID_MFN) )
        return 0;
    if ( level > 1 )
        return pte_from_mfn(child, PT_TABLE_FLAGS);
    return pte_from_mfn(child, (writable ? PTE_KERNEL_RW : PTE_KERNEL_RO) |
                               pte_nx);
}

mfn_t p2m_be_table_alloc(unsigned int level, mfn_t fill, bool fill_writable)
{
    mfn_t t = pt_alloc(level);
    pte_t *e;
    unsigned int i;

    if ( mfn_eq(t, INVALID_MFN) || mfn_eq(fill, INVALID_MFN) )
        return t;                   /* pt_alloc clears it */
    e = pt_map(t);
    for ( i = 0; i < PT_ENTRIES; i++ )
        e[i] = entry_pte(level, fill, fill_writable);
    pt_unmap(e);
    return t;
}

int p2m_be_table_seal(mfn_t table, unsigned int level)
{
    /* The kernel's tree is pinned: the page goes read-only everywhere. */
    on_pt_alloc(page_pfn(table), level, true);
    return 0;
}

void p2m_be_table_free(mfn_t table)
{
    pt_free(table);
}

mfn_t p2m_be_entry(mfn_t table, unsigned int index, bool *writable)
{
    pte_t e = pt_get_entry(table, index);

    if ( writable )
        *writable = e & _PAGE_RW;
    return (e & _PAGE_PRESENT) ? pte_mfn(e) : INVALID_MFN;
}

int p2m_be_set_entry(mfn_t table, unsigned int level, unsigned long pos,
                     mfn_t child, bool writable)
{
    return pt_set_entry(table, pos % PT_ENTRIES,
                        entry_pte(level, child, writable));
}

int p2m_be_install(mfn_t l3)
{
    return pt_set_entry(pt_kernel_root(), pt_index(P2M_BASE, 4),
                        entry_pte(4, l3, false));
}

void p2m_be_batch_begin(void)
{
    mmu_lazy_begin();
}

/*
 * Issues what the batch queued even when nested inside a caller's: the
 * core's next step reads or writes through what was queued.
 */
int p2m_be_batch_end(void)
{
    int rc = mmu_lazy_end();

    return rc ? rc : mc_flush();
}

static struct spinlock p2m_lock = SPINLOCK_INIT("p2m", LOCK_ORDER_P2M);

void p2m_be_lock(void)
{
    spin_lock(&p2m_lock);
}

void p2m_be_unlock(void)
{
    spin_unlock(&p2m_lock);
}

bool p2m_be_writing(void)
{
    return spin_is_mine(&p2m_lock);
}

void p2m_be_relax(void)
{
    asm volatile ( "pause" ::: "memory" );
}

/*
 * Every vCPU runs on a tree that shares the kernel half, so any of them
 * may hold a translation of the array: the flushes are Xen's _ALL kinds,
 * which reach the CPUs this domain's vCPUs have run on since their last
 * flush, and no others.
 */
int p2m_be_flush_chunk(unsigned long chunk)
{
    struct mmuext_op flush = {
        .cmd = MMUEXT_INVLPG_ALL,
        .arg1.linear_addr = P2M_BASE + chunk * PAGE_SIZE,
    };
    int rc = mc_mmuext(&flush);

    return rc || mmu_lazy_active() ? rc : mc_flush();
}

int p2m_be_flush_all(void)
{
    mc_request_tlb_flush();
    return mmu_lazy_active() ? 0 : mc_flush();
}

unsigned long *p2m_be_generation(void)
{
    return &xen_shared_info->arch.p2m_generation;
}

void p2m_be_publish_size(unsigned long max_pfn, mfn_t frame_list_top)
{
    struct arch_shared_info *a = &xen_shared_info->arch;

    a->max_pfn = max_pfn;
    a->pfn_to_mfn_frame_list_list = mfn_x(frame_list_top);   /* ~0: none */
}

static unsigned long kernel_cr3(void)
{
    return xen_pfn_to_cr3(mfn_x(pt_kernel_root()));
}

/*
 * The linear list only for tools that say they read it (as Linux does):
 * with p2m_cr3 set, Xen 4.17's save and dump-core walk our pagetables to
 * P2M_BASE instead of reading the frame list.
 */
void p2m_be_publish_linear(bool linear)
{
    struct arch_shared_info *a = &xen_shared_info->arch;

    a->p2m_vaddr = P2M_BASE;
    /* A restored shared_info holds the old domain's value: always write. */
    a->p2m_cr3 = linear ? kernel_cr3() : 0;
}

void p2m_be_published(struct p2m_be_published *p)
{
    const struct arch_shared_info *a = &xen_shared_info->arch;

    *p = (struct p2m_be_published){
        .generation = a->p2m_generation, .max_pfn = a->max_pfn,
        .frame_list = a->pfn_to_mfn_frame_list_list,
        .vaddr = a->p2m_vaddr, .cr3 = a->p2m_cr3,
        .cr3_expected = kernel_cr3(),
    };
}

unsigned long p2m_be_page_key(mfn_t page)
{
    return pfn_x(page_pfn(page));
}

/* The p2m itself: the tools wrote every leaf before the domain ran. */
mfn_t p2m_be_key_page(unsigned long key)
{
    unsigned long e;

    if ( key >= P2M_MAX_PFNS )
        return INVALID_MFN;
    e = p2m_get_entry(_pfn(key));
    return e == INVALID_P2M_ENTRY || p2m_entry_is_identity(e)
           ? INVALID_MFN : _mfn(e);
}

long p2m_be_reservation(void)
{
    domid_t self = DOMID_SELF;

    return HYPERVISOR_memory_op(XENMEM_current_reservation, &self);
}
