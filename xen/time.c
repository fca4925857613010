/*
 * Xen system time from vcpu_time_info.
 *
 * Xen publishes, per vcpu, a (tsc_timestamp, system_time) pair taken on
 * the physical CPU the vcpu last ran on, and that CPU's tsc-to-ns scale;
 * the guest extrapolates with the TSC.  Xen rewrites the record whenever
 * the vcpu lands on another physical CPU and at each calibration, bumping
 * version before and after (odd while it writes), so a read is a seqlock
 * read: snapshot, read the TSC, and retry if version was odd or moved.
 *
 * What time_now_ns() guarantees, and why, is in docs/boot.md ("Time").
 */
#include <pvmm/time.h>
#include <pvmm/shared_info.h>
#include <pvmm/hypercall.h>
#include <pvmm/smp.h>

/*
 * The last value time_now_ns() returned on any vCPU, raised with a
 * compare-and-swap so that two vCPUs reading at once never lower it.
 */
static uint64_t time_last_ns;

uint64_t time_xen_ns(void)
{
    /* Each vCPU's own record: Xen keeps it for the CPU that vCPU is on. */
    const volatile struct vcpu_time_info *t =
        &smp_vcpu_info(smp_vcpu_id())->time;
    uint32_t version, mul;
    uint64_t tsc_stamp, system_time, tsc;
    int64_t delta;
    int8_t shift;

    do {
        version = t->version;
        rmb();
        tsc_stamp = t->tsc_timestamp;
        system_time = t->system_time;
        mul = t->tsc_to_system_mul;
        shift = t->tsc_shift;
        /*
         * The TSC belongs inside the window: the record describes the
         * TSC of one physical CPU, and only the version check after the
         * read proves we were still on that CPU (Xen rewrites the record
         * when it moves the vcpu).  lfence keeps rdtsc from reading the
         * counter before the loads above.
         */
        tsc = rdtsc_ordered();
        rmb();
    } while ( (version & 1) || version != t->version );

    /*
     * Compare modulo 2^64, as a signed difference: with an emulated TSC
     * the stamp is often "negative" (Xen converts a system time from
     * before the domain's TSC began counting, e.g. 0xffffffffaf414417),
     * while the TSC is small and positive.  The delta is normally >= 0; a
     * TSC a little behind the stamp (rewritten by Xen at a calibration)
     * must give a time a little earlier, not a jump of centuries.
     */
    delta = (int64_t)(tsc - tsc_stamp);
    if ( delta >= 0 )
        return system_time + time_scale_delta(delta, mul, shift);
    return system_time - time_scale_delta(-(uint64_t)delta, mul, shift);
}

uint64_t time_now_ns(void)
{
    uint64_t now = time_xen_ns(), last = READ_ONCE(time_last_ns);

    /*
     * Xen system time is per physical CPU: each CPU extrapolates from its
     * own calibration, and two CPUs' clocks differ (by milliseconds under
     * QEMU's TCG, which has no invariant TSC).  Consecutive reads through
     * two CPUs' records can also round 1 ns apart.  A monotonic clock must
     * hide both, so never return less than before.
     */
    do {
        if ( now <= last )
            return last;
    } while ( !__atomic_compare_exchange_n(&time_last_ns, &last, now, false,
                                           __ATOMIC_RELAXED,
                                           __ATOMIC_RELAXED) );
    return now;
}

long time_block_until(uint64_t deadline_ns)
{
    /*
     * SCHEDOP_poll with no ports: block until Xen's timer fires at
     * deadline_ns (Xen system time, absolute) or an event arrives.  Our
     * upcall mask stays set, so no upcall comes of it.
     */
    struct sched_poll poll = {
        .nr_ports = 0,
        .timeout = deadline_ns ? deadline_ns : 1,  /* 0 means no timeout */
    };

    return HYPERVISOR_sched_op(SCHEDOP_poll, &poll);
}

void time_sleep_until(uint64_t deadline_ns)
{
    /*
     * One poll is not enough: Xen checks the deadline against the clock of
     * the CPU the timer lives on, and may then run us on a CPU whose clock
     * is behind; poll again until our own clock has passed it.
     */
    while ( time_now_ns() < deadline_ns )
        (void)time_block_until(deadline_ns);
}
