/*
 * What the domain builder left: where its area ends, how far its mapping
 * reaches, which frames are its pagetables; and the permissions of the
 * kernel image within it.
 *
 * The builder places, after the image: the p2m list (mfn_list),
 * start_info, the bootstrap pagetables, a stack (where %rsp pointed at
 * entry), and maps everything up to a 4 MiB boundary with at least
 * 512 KiB to spare.  It does not say where its area ends, so used_end is
 * the highest of those structures, and mapped_end is found by walking the
 * bootstrap pagetables until an entry is not present.
 *
 * What the layers below need of this they are told, here, once: the root
 * (pt_set_kernel_root) and the extent (fmap_set_boot_end), so that the
 * pagetable code and frame_map.h never read struct bootmap.  Boot only,
 * from mm_init.
 */
#include <pvmm/bootmap.h>
#include <pvmm/frame_map.h>
#include <pvmm/layout.h>
#include <pvmm/p2m.h>
#include <pvmm/pt.h>
#include <pvmm/multicall.h>

struct bootmap bootmap;
extern unsigned long boot_entry_rsp;

/* The pfn after the one holding the last byte of [va, va + len). */
static unsigned long end_pfn(unsigned long va, unsigned long len)
{
    return ((va + len - 1 - VIRT_BASE) >> PAGE_SHIFT) + 1;
}

void bootmap_init(const start_info_t *si)
{
    unsigned long used = end_pfn((unsigned long)_text, _end - _text);
    unsigned long va;
    unsigned int index;
    mfn_t l1;

    bootmap.pt_first = boot_va_to_pfn((void *)si->pt_base);
    bootmap.pt_count = si->nr_pt_frames;
    bootmap.root = pfn_to_mfn(bootmap.pt_first);
    pt_set_kernel_root(bootmap.root);

    used = MAX(used, pfn_x(bootmap.pt_first) + bootmap.pt_count);
    used = MAX(used, end_pfn((unsigned long)si, sizeof(*si)));
    used = MAX(used, end_pfn(si->mfn_list, si->nr_pages * sizeof(long)));
    used = MAX(used, end_pfn(boot_entry_rsp - 1, 1));
    bootmap.used_end = _pfn(used);

    /*
     * Walk the builder's mapping upwards from there.  The walk reads the
     * bootstrap tables through their builder's alias, below used_end.
     */
    bootmap.mapped_end = bootmap.used_end;
    fmap_set_boot_end(bootmap.used_end);
    for ( va = (unsigned long)boot_pfn_to_va(bootmap.used_end); ;
          va += PAGE_SIZE )
    {
        if ( pt_walk(bootmap.root, va, 1, &l1, &index) ||
             !(pt_get_entry(l1, index) & _PAGE_PRESENT) ||
             pfn_x(bootmap.mapped_end) >= si->nr_pages )
            break;
        bootmap.mapped_end = _pfn(pfn_x(bootmap.mapped_end) + 1);
    }
    fmap_set_boot_end(bootmap.mapped_end);
}

/* The entry the builder's mapping of pfn should have. */
static pte_t image_pte(unsigned long va, pte_t old)
{
    pte_t pte = old;

    /* A hole pfn (dom0): its frame moved away (mm/p2m_e820.c). */
    if ( !p2m_is_populated(boot_va_to_pfn((void *)va)) )
        return 0;

    if ( va >= (unsigned long)_text && va < (unsigned long)_etext )
        return pte & ~_PAGE_RW;                 /* text: read-only, exec */
    if ( va >= (unsigned long)_rodata && va < (unsigned long)_erodata )
        pte &= ~_PAGE_RW;                       /* rodata: read-only */
    return pte | pte_nx;                        /* nothing else executes */
}

int bootmap_protect_image(void)
{
    unsigned long pfn, va;
    unsigned int index;
    pte_t old, new;
    mfn_t l1;
    int rc;

    for ( pfn = 0; pfn < pfn_x(bootmap.mapped_end); pfn++ )
    {
        va = (unsigned long)boot_pfn_to_va(_pfn(pfn));
        rc = pt_walk(bootmap.root, va, 1, &l1, &index);
        if ( rc )
            return rc;
        old = pt_get_entry(l1, index);
        new = image_pte(va, old);
        if ( new != old && (rc = pt_set_entry(l1, index, new)) != 0 )
            return rc;
    }
    mc_request_tlb_flush();
    return mc_flush();
}
