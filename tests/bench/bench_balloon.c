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

/* Times one operation on the 1000 frames; counts its hypercalls. */
static int timed(bool release, uint64_t *cycles, unsigned long *calls)
{
    unsigned long b = balloon_get_stats()->hypercalls;
    unsigned long m = mc_get_stats()->hypercalls, done;
    uint64_t t = rdtsc();
    int rc = release ? balloon_release(FRAMES, pfns, &done)
                     : balloon_populate_list(pfns, FRAMES, &done);

    *cycles = rdtsc() - t;
    *calls = balloon_get_stats()->hypercalls - b +
             mc_get_stats()->hypercalls - m;
    return rc;
}

void bench_balloon(void)
{
    uint64_t rel[BENCH_REPS], pop[BENCH_REPS];
    unsigned long calls_rel = 0, calls_pop = 0;
    struct summary sr, sp;
    unsigned int r;
    int rc = 0;

    for ( r = 0; r < BENCH_REPS && !rc; r++ )
    {
        rc = timed(true, &rel[r], &calls_rel);
        if ( !rc )
            rc = timed(false, &pop[r], &calls_pop);
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
