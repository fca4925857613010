/*
 * The auditor's checks that are about pvmm's own mappings rather than
 * the p2m's structure (docs/design.md, "Checked by the auditor"):
 *  7. the direct map maps exactly the populated pfns, each to its mfn: a
 *     released frame is not mapped;
 *  9. every frame whose role is read-only (a pagetable, a shared p2m page)
 *     is mapped read-only in every alias: the direct map, the builder's
 *     area, and a PMAP slot.
 * p2m_audit() runs the core's invariants first (p2m_core_audit), then
 * these, and reports through the same p2m_audit_last().
 */
#include <pvmm/p2m_boot.h>
#include <pvmm/pt.h>
#include <pvmm/frame_map.h>
#include <pvmm/pmap.h>

/* Invariant 9 for one alias PTE of pfn; false if it is violated. */
static bool alias_ok(const char *what, pfn_t pfn, pte_t pte)
{
    if ( (pte & _PAGE_PRESENT) && (pte & _PAGE_RW) &&
         (pt_role(pfn) & PT_ROLE_RO) )
    {
        p2m_audit_fail(what, pfn_x(pfn), pte, pte & ~_PAGE_RW);
        return false;
    }
    return true;
}

/* Invariant 7 for the 512 pfns that L1 page t maps, from first. */
static bool directmap_l1_ok(const pte_t *t, unsigned long first)
{
    unsigned long i, e, found, expected;

    for ( i = 0; i < PT_ENTRIES && first + i < fmap_directmap_end; i++ )
    {
        e = p2m_get_entry(_pfn(first + i));
        expected = p2m_entry_is_populated(e) ? e : ~0UL;
        found = (t[i] & _PAGE_PRESENT) ? mfn_x(pte_mfn(t[i])) : ~0UL;
        if ( found != expected )
        {
            p2m_audit_fail("direct map of pfn", first + i, found, expected);
            return false;
        }
        if ( !alias_ok("writable direct-map alias of read-only pfn",
                       _pfn(first + i), t[i]) )
            return false;
    }
    return true;
}

/*
 * Invariant 7: one L1 of the direct map at a time, each mapped once (this
 * runs after every test, over every pfn: it has to be cheap per pfn).
 */
static bool directmap_ok(void)
{
    unsigned long pfn;
    unsigned int index;
    const pte_t *t;
    mfn_t l1;
    bool ok = true;

    for ( pfn = 0; ok && pfn < fmap_directmap_end; pfn += PT_ENTRIES )
    {
        if ( pt_walk(pt_kernel_root(), (unsigned long)directmap_va(_pfn(pfn)),
                     1, &l1, &index) )
        {
            p2m_audit_fail("direct map L1 of pfn, missing", pfn, 0, 1);
            return false;
        }
        t = pt_map(l1);
        ok = directmap_l1_ok(t, pfn);
        pt_unmap(t);
    }
    return ok;
}

/* Invariant 9 in the builder's area, one L1 at a time. */
static bool builder_aliases_ok(void)
{
    unsigned long pfn, end = fmap_boot_end, i;
    unsigned int index;
    const pte_t *t;
    mfn_t l1;
    bool ok = true;

    for ( pfn = 0; ok && pfn < end; pfn += PT_ENTRIES )
    {
        if ( pt_walk(pt_kernel_root(),
                     (unsigned long)boot_pfn_to_va(_pfn(pfn)), 1, &l1,
                     &index) )
            continue;               /* that 2 MiB is no longer mapped */
        t = pt_map(l1);
        for ( i = 0; ok && i < PT_ENTRIES && pfn + i < end; i++ )
            ok = alias_ok("writable builder alias of read-only pfn",
                          _pfn(pfn + i), t[index + i]);
        pt_unmap(t);
    }
    return ok;
}

/* Invariant 9 in PMAP's slots. */
static bool pmap_aliases_ok(void)
{
    unsigned int i, index;
    pte_t pte;
    mfn_t l1;

    for ( i = 0; i < PMAP_SLOTS; i++ )
    {
        if ( pt_walk(pt_kernel_root(),
                     (unsigned long)fixmap_va(FIXMAP_PMAP_FIRST + i), 1, &l1,
                     &index) )
            continue;
        pte = pt_get_entry(l1, index);
        if ( (pte & _PAGE_PRESENT) &&
             !alias_ok("writable PMAP alias of read-only pfn",
                       mfn_to_pfn(pte_mfn(pte)), pte) )
            return false;
    }
    return true;
}

int p2m_audit(void)
{
    if ( p2m_core_audit() )
        return -1;
    if ( !p2m_size )
        return 0;
    return directmap_ok() && builder_aliases_ok() && pmap_aliases_ok() ? 0
                                                                       : -1;
}
