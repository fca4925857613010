/*
 * The p2m auditor: checks every invariant of DESIGN section 2 and reports
 * the first violation with the pfn (or chunk) and both values.
 *
 *  1. every populated pfn maps back through the M2P: m2p[p2m[pfn]] == pfn;
 *     an identity entry names its own pfn;
 *  2. the shared pages are read-only (every mapping of them) and still
 *     all INVALID;
 *  3. every leaf mfn in the tools' frame list is the mfn behind the linear
 *     array at that chunk;
 *  4. max_pfn covers every populated pfn.
 */
#include "p2m_internal.h"
#include <pvmm/pt.h>
#include <pvmm/directmap.h>
#include <pvmm/shared_info.h>
#include <pvmm/printk.h>

static struct p2m_audit_report last;

const struct p2m_audit_report *p2m_audit_last(void)
{
    return &last;
}

static int report(const char *what, unsigned long where, unsigned long found,
                  unsigned long expected)
{
    last = (struct p2m_audit_report){ what, where, found, expected };
    printk("p2m audit: %s %#lx: found %#lx, expected %#lx\n", what, where,
           found, expected);
    return -1;
}

static unsigned long leaf_mapping_flags(unsigned long chunk)
{
    unsigned int index;
    mfn_t l1;

    if ( pt_walk(pt_kernel_root(), P2M_BASE + chunk * PAGE_SIZE, 1, &l1,
                 &index) )
        return 0;
    return pt_get_entry(l1, index) & ~PTE_ADDR_MASK;
}

static int audit_shared_leaf(pfn_t pfn, const char *name)
{
    const unsigned long *leaf = directmap_va(pfn);
    unsigned int i;
    unsigned int index;
    mfn_t l1;

    for ( i = 0; i < P2M_PER_PAGE; i++ )
        if ( leaf[i] != INVALID_P2M_ENTRY )
            return report(name, i, leaf[i], INVALID_P2M_ENTRY);
    if ( pt_walk(pt_kernel_root(), (unsigned long)leaf, 1, &l1, &index) ||
         (pt_get_entry(l1, index) & _PAGE_RW) )
        return report(name, pfn_x(pfn), pt_get_entry(l1, index),
                      pt_get_entry(l1, index) & ~_PAGE_RW);
    return 0;
}

static int audit_entries(unsigned long *highest)
{
    const unsigned long *linear = (const unsigned long *)P2M_BASE;
    unsigned long pfn, e;

    for ( pfn = 0; pfn < p2m_size; pfn++ )
    {
        e = linear[pfn];
        if ( e == INVALID_P2M_ENTRY )
            continue;
        if ( e & IDENTITY_FRAME_BIT )
        {
            if ( e != IDENTITY_FRAME(pfn) )
                return report("identity entry of pfn", pfn, e,
                              IDENTITY_FRAME(pfn));
            continue;
        }
        if ( !pfn_eq(mfn_to_pfn(_mfn(e)), _pfn(pfn)) )
            return report("m2p of the mfn of pfn", pfn,
                          machine_to_phys_mapping[e], pfn);
        *highest = pfn;
    }
    return 0;
}

static int audit_chunks(void)
{
    unsigned long c, chunks = p2m_size / P2M_PER_PAGE;
    mfn_t leaf, listed;

    for ( c = 0; c < chunks; c++ )
    {
        leaf = p2m_chunk_leaf(c);
        if ( (mfn_eq(leaf, p2m_shared.missing_mfn) ||
              mfn_eq(leaf, p2m_shared.identity_mfn)) &&
             (leaf_mapping_flags(c) & _PAGE_RW) )
            return report("writable shared leaf behind chunk", c,
                          leaf_mapping_flags(c), PTE_KERNEL_RO);
        if ( c >= P2M_FRAME_LIST_PFNS / P2M_PER_PAGE )
            continue;
        listed = p2m_frames_leaf(c);
        if ( !mfn_eq(listed, leaf) )
            return report("frame list leaf of chunk", c, mfn_x(listed),
                          mfn_x(leaf));
    }
    return 0;
}

int p2m_audit(void)
{
    unsigned long highest = 0, max_pfn = xen_shared_info->arch.max_pfn;
    int rc;

    if ( !p2m_size )
        return 0;
    if ( (rc = audit_entries(&highest)) != 0 ||
         (rc = audit_shared_leaf(p2m_shared.missing, "p2m_missing")) != 0 ||
         (rc = audit_shared_leaf(p2m_shared.identity, "p2m_identity")) != 0 ||
         (rc = audit_chunks()) != 0 )
        return rc;
    if ( max_pfn < highest + 1 || max_pfn < p2m_size )
        return report("max_pfn, highest populated pfn", highest, max_pfn,
                      MAX(highest + 1, p2m_size));
    return 0;
}

void p2m_get_stats(struct p2m_stats *st)
{
    const unsigned long *linear = (const unsigned long *)P2M_BASE;
    unsigned long c, pfn, chunks = p2m_size / P2M_PER_PAGE;
    mfn_t leaf;

    *st = (struct p2m_stats){ .size = p2m_size,
                              .frame_list_pages = p2m_frames_pages() };
    for ( pfn = 0; pfn < p2m_size; pfn++ )
        if ( linear[pfn] != INVALID_P2M_ENTRY &&
             !(linear[pfn] & IDENTITY_FRAME_BIT) )
            st->populated++;
    for ( c = 0; c < chunks; c++ )
    {
        leaf = p2m_chunk_leaf(c);
        if ( mfn_eq(leaf, p2m_shared.missing_mfn) )
            st->missing_leaf_maps++;
        else if ( mfn_eq(leaf, p2m_shared.identity_mfn) )
            st->identity_leaf_maps++;
        else
            st->private_leaves++;
    }
    p2m_count_tables(st);
}
