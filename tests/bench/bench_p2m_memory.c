/*
 * p2m memory: pages the linear p2m uses (private leaves, L1s, L2s, its L3
 * and the five shared pages; the tools' frame list is counted apart), for
 * the booted layout and for the sparse layout of the balloon tests (four
 * frames at ~1 GiB, 64 GiB, 4 TiB, 15 TiB), against a flat array.
 */
#include <pvmm/bench.h>
#include <pvmm/balloon.h>
#include <pvmm/p2m_boot.h>
#include <pvmm/pte.h>
#include <pvmm/printk.h>

#define SHARED_PAGES    5       /* two leaves, two L1s, one L2 */

static unsigned long linear_pages(const struct p2m_stats *s)
{
    return s->private_leaves + s->private_l1 + s->private_l2 + 1 +
           SHARED_PAGES;
}

static void print_layout(const char *name, const struct p2m_stats *s,
                         unsigned long highest_pfn)
{
    unsigned long pages = linear_pages(s);
    unsigned long flat = (highest_pfn + 1) * 8 / 4096 + 1;
    unsigned long target = s->populated / P2M_PER_PAGE + 16;

    printk("BENCH p2m.memory.%s pages=%lu frame_list_pages=%lu "
           "flat_array_pages=%lu populated=%lu target_pages<=%lu met=%s\n",
           name, pages, s->frame_list_pages, flat, s->populated, target,
           pages <= target ? "yes" : "no");
}

void bench_p2m_memory(void)
{
    unsigned long far[4], done;
    pfn_t pfns[4], room[4];
    struct p2m_stats s;
    unsigned int i;
    int rc;

    p2m_get_stats(&s);
    print_layout("booted", &s, p2m_size - 1);

    far[0] = MAX(GIB_PFNS, ROUNDUP(p2m_size, GIB_PFNS)) + 17;
    far[1] = (1UL << 24) + 1000;
    far[2] = (1UL << 30) + 3;
    far[3] = 15UL << 28;
    for ( i = 0; i < 4; i++ )
        pfns[i] = _pfn(far[i]);
    rc = balloon_release(4, room, &done);
    if ( !rc )
        rc = balloon_populate_list(pfns, 4, &done);
    if ( rc )
        return bench_fail("p2m memory: sparse layout", rc);
    p2m_get_stats(&s);
    print_layout("sparse", &s, far[3]);
    if ( balloon_release_pfns(pfns, 4, &done) ||
         balloon_populate_list(room, 4, &done) )
        bench_fail("p2m memory: undoing the sparse layout", -XEN_EIO);
}
