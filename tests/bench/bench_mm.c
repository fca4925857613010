/*
 * What bringing mm up cost in this boot (measured by mm_init), per GiB of
 * the domain's memory.
 */
#include <pvmm/bench.h>
#include <pvmm/mm.h>
#include <pvmm/shared_info.h>
#include <pvmm/printk.h>

static void print_step(const char *name, const struct mm_step_cost *c)
{
    unsigned long pages = xen_start_info->nr_pages;
    unsigned long per_gib = 1UL << 18;          /* pages in a GiB */

    printk("BENCH mm.init.%s cycles=%lu cycles_per_gib=%lu hypercalls=%lu "
           "mc_entries=%lu mmu_ops=%lu tlb_flushes=%lu pages=%lu\n", name,
           c->cycles, c->cycles / pages * per_gib, c->mc.hypercalls,
           c->mc.entries, c->mc.mmu_ops, c->mc.tlb_flushes, pages);
}

void bench_mm_init(void)
{
    print_step("tree", &mm_boot_stats.tree);
    print_step("directmap", &mm_boot_stats.directmap);
    print_step("revector", &mm_boot_stats.revector);
    print_step("frame_list", &mm_boot_stats.frame_list);
}
