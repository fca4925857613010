/*
 * From head.S to the test run: the boot sequence of docs/design.md,
 * "start_kernel".
 */
#include <pvmm/hypercall.h>
#include <pvmm/shared_info.h>
#include <pvmm/console.h>
#include <pvmm/traps.h>
#include <pvmm/printk.h>
#include <pvmm/cmdline.h>
#include <pvmm/sched.h>
#include <pvmm/test.h>
#include <pvmm/layout.h>
#include <pvmm/cpu.h>
#include <pvmm/smp.h>
#include <pvmm/mm.h>
#include <pvmm/xenstore.h>
#include <pvmm/control.h>
#include <pvmm/hold.h>
#include <pvmm/p2m_boot.h>
#include <pvmm/bench.h>
#include <pvmm/inject.h>

struct boot_options boot_opts;

/* Why the clock behaves as it does here: docs/boot.md, "Time". */
static void print_tsc(void)
{
    struct cpu_xen_tsc tsc;

    if ( !cpu_xen_tsc_info(&tsc) )
    {
        printk("pvmm: Xen's CPUID leaves not found\n");
        return;
    }
    printk("pvmm: TSC %s by Xen (tsc_mode %u, %s across CPUs, %u kHz)\n",
           tsc.emulated ? "emulated" : "not emulated", tsc.mode,
           tsc.reliable ? "reliable" : "not reliable", tsc.khz);
}

static void print_banner(const start_info_t *si)
{
    long version = HYPERVISOR_xen_version(XENVER_version, NULL);

    printk("pvmm: booting as %s on Xen %ld.%ld, %lu pages, command line "
           "\"%.*s\"\n", (si->flags & SIF_INITDOMAIN) ? "dom0" : "domU",
           version >> 16, version & 0xffff, si->nr_pages,
           (int)sizeof(si->cmd_line), (const char *)si->cmd_line);
    print_tsc();
}

static void print_boot_details(const start_info_t *si)
{
    printk("pvmm: image %p-%p, start_info %p, pt_base %#lx (%lu frames), "
           "mfn_list %#lx\n", _text, _end, si, si->pt_base,
           si->nr_pt_frames, si->mfn_list);
}

/* inject=: armed before mm is set up, so a rule's N counts from boot. */
static void arm_injections(const struct boot_options *opts)
{
    unsigned int i;

    for ( i = 0; i < opts->nr_inject; i++ )
    {
        printk("pvmm: inject: call %lu of %s fails\n", opts->inject[i].nth,
               inject_kind_name(opts->inject[i].kind));
        inject_arm(&opts->inject[i]);
    }
}

/*
 * A domU's xenstore ring, and the watch for the toolstack's requests; a
 * dom0 Xen booted has neither (no xenstored).
 */
static void start_xenstore(const start_info_t *si)
{
    int rc = xs_init(si);

    if ( rc && rc != -XEN_ENODEV )
        printk("xenstore: cannot map the ring at mfn %#lx: %d\n",
               (unsigned long)si->store_mfn, rc);
    if ( !rc && (rc = control_init()) != 0 )
        printk("control: cannot watch control/shutdown: %d\n", rc);
}

void __noreturn start_kernel(start_info_t *si)
{
    char err[CMDLINE_ERR_LEN];
    struct test_run run;
    int rc;

    hypercall_page_check();
    smp_init_boot_vcpu();           /* before any trap: they read %gs */
    cpu_init();
    shared_info_init(si);
    cons_init(si);
    traps_init();
    print_banner(si);
    smp_init();
    start_xenstore(si);

    rc = cmdline_parse((const char *)si->cmd_line, sizeof(si->cmd_line),
                       &boot_opts, err);
    if ( !rc && boot_opts.verbose )
        print_boot_details(si);
    if ( rc )
        boot_opts = (struct boot_options){ 0 };     /* run nothing of it */
    arm_injections(&boot_opts);
    mm_init(si, &boot_opts);
    smp_register_vcpu_info();       /* needs the p2m: the frames by mfn */
    if ( boot_opts.p2m_map )
        p2m_map_dump("booted");

    test_run(&boot_opts, rc ? err : NULL, &run);
    /* After the tests, before the result line: the runner stops there. */
    if ( !rc && boot_opts.bench && bench_main() )
        test_run_error(&run, "some benchmarks could not run (BENCH-ERROR "
                       "above)");
    if ( !rc && boot_opts.p2m_map )
        p2m_map_dump("final");
    test_report(&run);
    if ( !rc && boot_opts.hold )
        hold(&boot_opts);

    /* The result line is the last thing a runner needs: let it drain. */
    (void)cons_flush(CONS_RING_WAIT_NS);
    sched_shutdown(SHUTDOWN_poweroff);
}
