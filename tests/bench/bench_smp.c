/*
 * Several vCPUs (docs/concurrency.md): what the p2m lock costs p2m_set,
 * and what a flush that must reach another vCPU costs against a local
 * one.  The hypercall counts are exact; the cycles are rdtsc under TCG,
 * where an atomic instruction and an IPI are both emulated, so only
 * ratios from one boot mean anything, and not much.
 */
#include <pvmm/bench.h>
#include <pvmm/p2m.h>
#include <pvmm/p2m_core.h>
#include <pvmm/p2m_boot.h>
#include <pvmm/spinlock.h>
#include <pvmm/multicall.h>
#include <pvmm/smp.h>
#include <pvmm/shared_info.h>
#include <pvmm/time.h>
#include <pvmm/printk.h>
#include <pvmm/lib.h>

#define STORES      512             /* one leaf's worth */
#define FLUSHES     256

static struct spinlock bench_lock = SPINLOCK_INIT("bench", 10);

/* An uncontended lock and unlock. */
static void lock_pair(uint64_t *cycles)
{
    unsigned int r, i;

    for ( r = 0; r < BENCH_REPS; r++ )
    {
        uint64_t t = rdtsc_ordered();

        for ( i = 0; i < STORES; i++ )
        {
            spin_lock(&bench_lock);
            spin_unlock(&bench_lock);
        }
        cycles[r] = (rdtsc_ordered() - t) / STORES;
    }
}

/*
 * p2m_set into one private leaf: populated entries take the lock-free
 * path, unpopulated ones the lock (and the check for a collapse, which
 * the populated entry at index 0 ends at once).
 */
static unsigned long store_calls;   /* hypercalls the timed stores made */

static int timed_stores(unsigned long first, bool populated, uint64_t *per)
{
    unsigned long calls = mc_get_stats()->hypercalls;
    uint64_t t = rdtsc_ordered();
    unsigned long i, e;
    int rc = 0;

    for ( i = 1; i < STORES && !rc; i++ )
    {
        e = populated ? (1UL << 40) + i
                      : p2m_unpopulated_entry(_pfn(first + i));
        rc = p2m_set(_pfn(first + i), e);
    }
    *per = (rdtsc_ordered() - t) / (STORES - 1);
    store_calls += mc_get_stats()->hypercalls - calls;
    return rc;
}

static void bench_p2m_lock(void)
{
    unsigned long first = ROUNDUP(p2m_size, GIB_PFNS) + GIB_PFNS;
    uint64_t pair[BENCH_REPS], free_[BENCH_REPS], locked[BENCH_REPS];
    struct summary sp, sf, sl;
    unsigned int r;
    int rc;

    lock_pair(pair);
    store_calls = 0;
    rc = p2m_set(_pfn(first), 1UL << 40);      /* the leaf goes private */
    for ( r = 0; r < BENCH_REPS && !rc; r++ )
    {
        rc = timed_stores(first, true, &free_[r]);
        rc = rc ? rc : timed_stores(first, false, &locked[r]);
    }
    rc = rc ? rc : p2m_set(_pfn(first), p2m_unpopulated_entry(_pfn(first)));
    p2m_trim();
    if ( rc )
        return bench_fail("smp.p2m_lock", rc);
    sp = summarise(pair, BENCH_REPS);
    sf = summarise(free_, BENCH_REPS);
    sl = summarise(locked, BENCH_REPS);
    printk("BENCH smp.spin_lock_unlock cycles=%lu min=%lu max=%lu reps=%u\n",
           sp.median, sp.min, sp.max, BENCH_REPS);
    printk("BENCH smp.p2m_set.private_lock_free cycles=%lu min=%lu max=%lu "
           "reps=%u\n", sf.median, sf.min, sf.max, BENCH_REPS);
    printk("BENCH smp.p2m_set.private_locked cycles=%lu min=%lu max=%lu "
           "reps=%u lock_share=%lu%% hypercalls=%lu\n", sl.median, sl.min,
           sl.max, BENCH_REPS, sl.median ? sp.median * 100 / sl.median : 0,
           store_calls);
}

/* Keeps vCPU 1 running (not blocked) so a flush of all must IPI it. */
static unsigned long spin_stop;

static void spin_until_told(void *arg)
{
    (void)arg;
    while ( !READ_ONCE(spin_stop) )
        asm volatile ( "pause" ::: "memory" );
}

static int time_flushes(unsigned int cmd, uint64_t *cycles)
{
    struct mmuext_op op = { .cmd = cmd, .arg1.linear_addr = VIRT_BASE };
    unsigned int r, i;
    int rc = 0;

    for ( r = 0; r < BENCH_REPS; r++ )
    {
        uint64_t t = rdtsc_ordered();

        for ( i = 0; i < FLUSHES && !rc; i++ )
            rc = mc_mmuext(&op) ?: mc_flush();
        cycles[r] = (rdtsc_ordered() - t) / FLUSHES;
    }
    return rc;
}

static void print_flush(const char *name, uint64_t *v, unsigned long calls)
{
    struct summary s = summarise(v, BENCH_REPS);

    printk("BENCH smp.flush.%s cycles=%lu min=%lu max=%lu reps=%u "
           "hypercalls_per_flush=%lu\n", name, s.median, s.min, s.max,
           BENCH_REPS, calls);
}

static void bench_flushes(void)
{
    static const struct { unsigned int cmd; const char *name; } kinds[] = {
        { MMUEXT_INVLPG_LOCAL, "invlpg_local" },
        { MMUEXT_INVLPG_ALL, "invlpg_all" },
        { MMUEXT_TLB_FLUSH_LOCAL, "tlb_local" },
        { MMUEXT_TLB_FLUSH_ALL, "tlb_all" },
    };
    uint64_t v[BENCH_REPS];
    unsigned long calls;
    unsigned int k;
    int rc;

    if ( smp_nr_vcpus() < 2 )
    {
        printk("BENCH-NOTE smp.flush needs 2 vCPUs (VCPUS=2)\n");
        return;
    }
    spin_stop = 0;
    if ( (rc = smp_start(1)) || (rc = smp_post(1, spin_until_told, NULL)) )
        return bench_fail("smp.flush: vCPU 1", rc);
    for ( k = 0; k < ARRAY_SIZE(kinds) && !rc; k++ )
    {
        calls = mc_get_stats()->hypercalls;
        if ( (rc = time_flushes(kinds[k].cmd, v)) != 0 )
            bench_fail("smp.flush", rc);
        else
            print_flush(kinds[k].name, v, (mc_get_stats()->hypercalls - calls) /
                                      (BENCH_REPS * FLUSHES));
    }
    WRITE_ONCE(spin_stop, 1);
    if ( (rc = smp_wait(1, SMP_IDLE_POLL_NS)) || (rc = smp_stop(1)) )
        bench_fail("smp.flush: vCPU 1 stop", rc);
}

void bench_smp(void)
{
    bench_p2m_lock();
    bench_flushes();
}
