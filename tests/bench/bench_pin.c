/*
 * Pinning and unpinning an address space of N pagetable pages, batched
 * and with one hypercall per operation (mc_set_unbatched: the same
 * pt_pin/pt_unpin code, only the multicall layer issues each op alone).
 */
#include <pvmm/bench.h>
#include <pvmm/pt.h>
#include <pvmm/frame.h>
#include <pvmm/p2m_boot.h>
#include <pvmm/multicall.h>
#include <pvmm/time.h>
#include <pvmm/printk.h>
#include <pvmm/lib.h>

#define PIN_VA      0x0000100000000000UL
#define TWO_MIB     (2UL << 20)
#define PIN_REPS    5

static const unsigned long sizes[] = { 64, 512, 4096 };

struct op_cost {
    uint64_t cycles[PIN_REPS];
    struct mc_stats mc;             /* of the last repetition */
};

/* A tree of exactly n pages: L4, L3, the L2s and L1s each mapping data. */
static int build(unsigned long n, mfn_t *root, pfn_t data)
{
    unsigned long l1s = n - 2, i;
    int rc = 0;

    while ( l1s + (l1s + PT_ENTRIES - 1) / PT_ENTRIES + 2 > n )
        l1s--;
    *root = pt_alloc(4);
    if ( mfn_eq(*root, INVALID_MFN) )
        return -XEN_ENOMEM;
    for ( i = 0; i < l1s && !rc; i++ )
        rc = pt_map_page(*root, PIN_VA + i * TWO_MIB, pfn_to_mfn(data),
                         PTE_KERNEL_RO | pte_nx);
    return rc;
}

static struct mc_stats delta(const struct mc_stats *a)
{
    const struct mc_stats *b = mc_get_stats();

    return (struct mc_stats){ b->hypercalls - a->hypercalls,
                              b->entries - a->entries,
                              b->mmu_ops - a->mmu_ops,
                              b->tlb_flushes - a->tlb_flushes,
                              b->invlpgs - a->invlpgs };
}

static int measure(mfn_t root, struct op_cost *pin, struct op_cost *unpin)
{
    struct mc_stats s;
    unsigned int r;
    uint64_t t;
    int rc = 0;

    for ( r = 0; r < PIN_REPS && !rc; r++ )
    {
        s = *mc_get_stats();
        t = rdtsc();
        rc = pt_pin(root);
        pin->cycles[r] = rdtsc() - t;
        pin->mc = delta(&s);
        s = *mc_get_stats();
        t = rdtsc();
        if ( !rc )
            rc = pt_unpin(root);
        unpin->cycles[r] = rdtsc() - t;
        unpin->mc = delta(&s);
    }
    return rc;
}

/* Target (batched): at most ceil(N/64) + 2 hypercalls and 1 TLB flush. */
static void print_cost(const char *op, const char *mode, unsigned long n,
                       struct op_cost *c)
{
    struct summary s = summarise(c->cycles, PIN_REPS);
    unsigned long target = (n + 63) / 64 + 2;
    bool met = c->mc.hypercalls <= target && c->mc.tlb_flushes == 1;

    printk("BENCH pt.%s.%s.pages%lu cycles=%lu min=%lu max=%lu reps=%u "
           "hypercalls=%lu mc_entries=%lu mmu_ops=%lu tlb_flushes=%lu",
           op, mode, n, s.median, s.min, s.max, PIN_REPS,
           c->mc.hypercalls, c->mc.entries, c->mc.mmu_ops,
           c->mc.tlb_flushes);
    if ( !strcmp(mode, "batched") )     /* the comparison has no target */
        printk(" target_hypercalls<=%lu target_tlb_flushes=1 met=%s", target,
               met ? "yes" : "no");
    printk("\n");
}

static void bench_one(unsigned long n, pfn_t data)
{
    struct op_cost pin, unpin;
    mfn_t root;
    int rc = build(n, &root, data), mode;

    for ( mode = 0; !rc && mode < 2; mode++ )
    {
        mc_set_unbatched(mode == 1);
        rc = measure(root, &pin, &unpin);
        mc_set_unbatched(false);
        if ( !rc )
        {
            print_cost("pin", mode ? "unbatched" : "batched", n, &pin);
            print_cost("unpin", mode ? "unbatched" : "batched", n, &unpin);
        }
    }
    if ( rc )
        bench_fail("pin/unpin", rc);
    if ( !mfn_eq(root, INVALID_MFN) && pt_free_tree(root) )
        bench_fail("freeing the pinned tree", -XEN_EBUSY);
}

void bench_pin(void)
{
    pfn_t data = frame_alloc();
    unsigned int i;

    if ( pfn_eq(data, INVALID_PFN) )
        return bench_fail("pin: no data frame", -XEN_ENOMEM);
    for ( i = 0; i < ARRAY_SIZE(sizes); i++ )
        bench_one(sizes[i], data);
    frame_free(data);
}
