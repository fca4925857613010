/*
 * Xen system time from vcpu_time_info: Xen publishes a (tsc, ns) pair and
 * a scale; the guest extrapolates with rdtsc.  A version number that is
 * odd, or changed while we read, means Xen was updating: read again.
 */
#include <pvmm/time.h>
#include <pvmm/shared_info.h>

uint64_t time_now_ns(void)
{
    const volatile struct vcpu_time_info *t = &shared_info_vcpu0()->time;
    uint32_t version, mul;
    uint64_t tsc_stamp, system_time, delta;
    int8_t shift;

    do {
        version = t->version;
        rmb();
        tsc_stamp = t->tsc_timestamp;
        system_time = t->system_time;
        mul = t->tsc_to_system_mul;
        shift = t->tsc_shift;
        rmb();
    } while ( (version & 1) || version != t->version );

    delta = rdtsc() - tsc_stamp;
    if ( shift < 0 )
        delta >>= -shift;
    else
        delta <<= shift;
    return system_time + (uint64_t)(((unsigned __int128)delta * mul) >> 32);
}
