/*
 * The balloon: cycles and hypercalls per 1,000 frames released to Xen and
 * populated back at the same pfns.
 */
#include <pvmm/bench.h>
#include <pvmm/balloon.h>
#include <pvmm/multicall.h>
#include <pvmm/time.h>
#include <pvmm/printk.h>

#define FRAMES  1000

static pfn_t pfns[FRAMES];

void bench_balloon(void)
{
    uint64_t rel[BENCH_REPS], pop[BENCH_REPS], t;
    unsigned long calls_rel = 0, calls_pop = 0, b, m, done;
    struct summary sr, sp;
    unsigned int r;
    int rc = 0;

    for ( r = 0; r < BENCH_REPS && !rc; r++ )
    {
        b = balloon_get_stats()->hypercalls;
        m = mc_get_stats()->hypercalls;
        t = rdtsc();
        rc = balloon_release(FRAMES, pfns, &done);
        rel[r] = rdtsc() - t;
        calls_rel = balloon_get_stats()->hypercalls - b +
                    mc_get_stats()->hypercalls - m;
        if ( rc )
            break;
        b = balloon_get_stats()->hypercalls;
        m = mc_get_stats()->hypercalls;
        t = rdtsc();
        rc = balloon_populate_list(pfns, FRAMES, &done);
        pop[r] = rdtsc() - t;
        calls_pop = balloon_get_stats()->hypercalls - b +
                    mc_get_stats()->hypercalls - m;
    }
    if ( rc )
        return bench_fail("balloon", rc);
    sr = summarise(rel, BENCH_REPS);
    sp = summarise(pop, BENCH_REPS);
    printk("BENCH balloon.release.frames%u cycles=%lu min=%lu max=%lu "
           "reps=%u hypercalls=%lu\n", FRAMES, sr.median, sr.min, sr.max,
           BENCH_REPS, calls_rel);
    printk("BENCH balloon.populate.frames%u cycles=%lu min=%lu max=%lu "
           "reps=%u hypercalls=%lu\n", FRAMES, sp.median, sp.min, sp.max,
           BENCH_REPS, calls_pop);
}
