/*
 * From head.S to the test run: the boot sequence of DESIGN section 1.
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
#include <pvmm/mm.h>

struct boot_options boot_opts;

static void print_banner(const start_info_t *si)
{
    long version = HYPERVISOR_xen_version(XENVER_version, NULL);

    printk("pvmm: booting as %s on Xen %ld.%ld, %lu pages, command line "
           "\"%.*s\"\n", (si->flags & SIF_INITDOMAIN) ? "dom0" : "domU",
           version >> 16, version & 0xffff, si->nr_pages,
           (int)sizeof(si->cmd_line), (const char *)si->cmd_line);
}

static void print_boot_details(const start_info_t *si)
{
    printk("pvmm: image %p-%p, start_info %p, pt_base %#lx (%lu frames), "
           "mfn_list %#lx\n", _text, _end, si, si->pt_base,
           si->nr_pt_frames, si->mfn_list);
}

void __noreturn start_kernel(start_info_t *si)
{
    char err[CMDLINE_ERR_LEN];
    int rc;

    hypercall_page_check();
    cpu_init();
    shared_info_init(si);
    cons_init(si);
    traps_init();
    print_banner(si);

    rc = cmdline_parse((const char *)si->cmd_line, sizeof(si->cmd_line),
                       &boot_opts, err);
    if ( !rc && boot_opts.verbose )
        print_boot_details(si);
    mm_init(si, !rc && boot_opts.verbose);

    test_main(&boot_opts, rc ? err : NULL);

    /* The result line is the last thing a runner needs: let it drain. */
    (void)cons_flush(CONS_RING_WAIT_NS);
    sched_shutdown(SHUTDOWN_poweroff);
}
