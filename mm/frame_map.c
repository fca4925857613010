/*
 * Reaching any frame: the direct map, the builder's alias, or PMAP.
 *
 * Structure: two extents, how many pfns from 0 the direct map and the
 * builder's area map.  Both are set by the code that builds or measures
 * those mappings (bootmap_init, directmap_init) and only grow.
 *
 * Who calls it: the pagetable code (pt_map), and anything that must read
 * or write a frame whichever mapping of it exists.  A caller that knows
 * the direct map covers its frame (every frame the full allocator hands
 * out) may use directmap_va() directly.
 *
 * Any vCPU: the standing mappings are fixed after boot, and PMAP has
 * its own lock.  PMAP's limits apply: at most PMAP_SLOTS frames
 * mapped this way at once.
 */
#include <pvmm/frame_map.h>
#include <pvmm/pmap.h>

unsigned long fmap_boot_end, fmap_directmap_end;

void fmap_set_boot_end(pfn_t end)
{
    fmap_boot_end = pfn_x(end);
}

void fmap_set_directmap_end(unsigned long nr_pfns)
{
    fmap_directmap_end = nr_pfns;
}

void *fmap_map_for(pfn_t pfn, mfn_t mfn, bool writable, const char *holder)
{
    if ( directmap_covers(pfn) )
        return directmap_va(pfn);
    if ( bootmap_covers(pfn) )
        return boot_pfn_to_va(pfn);
    return pmap_map_for(mfn, writable, holder);
}

void fmap_unmap(const void *va)
{
    if ( pmap_owns(va) )
        pmap_unmap(va);
}
