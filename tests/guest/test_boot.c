/*
 * What Xen hands the kernel at boot: start_info, the M2P, shared_info.
 */
#include <pvmm/test.h>
#include <pvmm/shared_info.h>
#include <pvmm/smp.h>
#include <pvmm/hypercall.h>
#include <pvmm/layout.h>
#include <pvmm/time.h>
#include <pvmm/sched.h>
#include <pvmm/lib.h>
#include <pvmm/p2m_boot.h>
#include <pvmm/frame.h>

static bool in_boot_area(unsigned long va)
{
    /* As an offset: VIRT_BASE + the size of a large domain wraps. */
    return va >= VIRT_BASE &&
           va - VIRT_BASE < (xen_start_info->nr_pages << PAGE_SHIFT);
}

TEST(boot, start_info_magic_and_fields)
{
    const start_info_t *si = xen_start_info;
    domid_t self = DOMID_SELF;
    long reservation = HYPERVISOR_memory_op(XENMEM_current_reservation, &self);

    ASSERT_EQ(memcmp(si->magic, "xen-3.0-x86_64", 14), 0);
    ASSERT_GT(reservation, 0);
    /* dom0 may have given hole frames back (mm/p2m_e820.c); a domU not. */
    ASSERT_EQ(si->nr_pages, reservation + p2m_e820_released());
    if ( !xen_is_dom0() )
        ASSERT_EQ(p2m_e820_released(), 0);
    ASSERT_EQ(si->shared_info & ~PAGE_MASK, 0);
    ASSERT_EQ(si->pt_base & ~PAGE_MASK, 0);
    ASSERT_TRUE(in_boot_area(si->pt_base));
    /* Revectored at boot: the tools' view of the list is the linear p2m. */
    ASSERT_EQ(si->mfn_list, P2M_BASE);
    /* One page per level at least: L4, L3, L2, L1. */
    ASSERT_GE(si->nr_pt_frames, 4);
    ASSERT_LT(strnlen((const char *)si->cmd_line, sizeof(si->cmd_line)),
              sizeof(si->cmd_line));
    /* Only the control domain is privileged. */
    ASSERT_EQ(!!(si->flags & SIF_INITDOMAIN), !!(si->flags & SIF_PRIVILEGED));
}

/*
 * m2p[p2m[pfn]] == pfn for every populated pfn also proves no two pfns
 * share an mfn; and the populated pfns are as many as Xen says the domain
 * has (frames moved out of E820 holes are moved, not lost; those given
 * back are no longer counted by either).  Runs before any test balloons.
 */
TEST(boot, m2p_maps_every_pfn_back)
{
    struct xen_machphys_mapping m2p;
    unsigned long pfn, mfn, populated = 0;
    domid_t self = DOMID_SELF;
    long rc = HYPERVISOR_memory_op(XENMEM_machphys_mapping, &m2p);
    long reservation = HYPERVISOR_memory_op(XENMEM_current_reservation, &self);

    ASSERT_EQ(rc, 0);
    ASSERT_EQ(m2p.v_start, MACH2PHYS_VIRT_START);
    ASSERT_GT(m2p.max_mfn, 0);

    for ( pfn = 0; pfn < p2m_size; pfn++ )
    {
        if ( !p2m_is_populated(_pfn(pfn)) )
            continue;
        populated++;
        mfn = mfn_x(pfn_to_mfn(_pfn(pfn)));
        if ( mfn > m2p.max_mfn )
            FAIL("pfn %#lx: mfn %#lx is above the M2P's max_mfn %#lx",
                 pfn, mfn, m2p.max_mfn);
        if ( machine_to_phys_mapping[mfn] != pfn )
            FAIL("pfn %#lx: mfn %#lx maps back to pfn %#lx", pfn, mfn,
                 machine_to_phys_mapping[mfn]);
    }
    ASSERT_EQ(populated, reservation);
}

/*
 * Live Xen data, not the zeroed .bss page it replaced: a deadline given to
 * Xen's timer is reached by our clock.  Not "time moves across a yield":
 * with an emulated TSC (a domU here; see the banner and docs/boot.md,
 * "Time") Xen keeps the TSC monotonic by returning last + 1 ns while the
 * vcpu runs on a CPU whose clock lags, so time can stand still for a while.
 */
TEST(boot, shared_info_vcpu0_is_live)
{
    struct vcpu_info *v = smp_vcpu_info(0);
    uint64_t t0, t1, deadline;
    unsigned int polls = 0;

    ASSERT_EQ(v->evtchn_upcall_mask, 1);    /* we run with events masked */
    ASSERT_NE(v->time.tsc_to_system_mul, 0);
    ASSERT_EQ(v->time.version & 1, 0);
    ASSERT_GT(v->time.system_time, 0);

    t0 = time_now_ns();
    deadline = t0 + NSEC_PER_MSEC;
    /* Each poll blocks in Xen until its own clock passes the deadline. */
    while ( time_now_ns() < deadline && polls < 1000 )
    {
        ASSERT_EQ(time_block_until(deadline), 0);
        polls++;
    }
    t1 = time_now_ns();
    ASSERT_GE(t1, deadline);
    /* A wrong scale would need many polls, or overshoot by far. */
    ASSERT_LT(polls, 1000);
    ASSERT_LT(t1 - t0, NSEC_PER_SEC);
}

/*
 * The clock never goes back, across reschedules that may move the vcpu
 * to a CPU with another calibration; and Xen's own unclamped reading is
 * never more than 100 ms ahead of it (the clamp only hides small skew).
 */
TEST(boot, clock_is_monotonic_and_close_to_xen)
{
    uint64_t prev = time_now_ns(), now, xen;
    unsigned int i;

    for ( i = 0; i < 2000; i++ )
    {
        if ( i % 100 == 0 )
            sched_yield();
        now = time_now_ns();
        xen = time_xen_ns();
        if ( now < prev )
            FAIL("read %u: %#lx after %#lx", i, now, prev);
        if ( xen > now + 100 * NSEC_PER_MSEC )
            FAIL("read %u: Xen's clock %#lx is far ahead of ours %#lx", i,
                 xen, now);
        prev = now;
    }
}

/*
 * The builder's p2m list is dead once revectored: its pages are back in
 * the allocator (the allocator's rotating search does not come back to
 * them before the tests; a few may have been handed out again).
 */
TEST(boot, builders_list_went_back_to_the_allocator)
{
    const struct p2m_crosscheck *x = &p2m_crosscheck;
    unsigned long i, free = 0;

    ASSERT_EQ(x->list_pages,
              (xen_start_info->nr_pages * 8 + PAGE_SIZE - 1) / PAGE_SIZE);
    for ( i = 0; i < x->list_pages; i++ )
        free += frame_is_free(_pfn(x->list_first_pfn + i));
    if ( free * 2 < x->list_pages )
        FAIL("only %lu of the list's %lu pages (from pfn %#lx) are free",
             free, x->list_pages, x->list_first_pfn);
}
