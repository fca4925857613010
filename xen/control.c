/*
 * control/shutdown: the toolstack's requests (pvmm/control.h).
 *
 * libxl's side: it writes the request, then waits (60 s for a suspend)
 * for the node to hold anything but the request: that is the guest's
 * acknowledgement.  For a suspend it then waits for the domain to shut
 * down with SHUTDOWN_suspend.  So the order here is: read, acknowledge,
 * act.  Our own write fires the watch once more; an empty node is not a
 * request.
 */
#include <pvmm/control.h>
#include <pvmm/suspend.h>
#include <pvmm/xenstore.h>
#include <pvmm/console.h>
#include <pvmm/sched.h>
#include <pvmm/printk.h>
#include <pvmm/time.h>
#include <pvmm/lib.h>

#define CONTROL_NODE    "control/shutdown"
#define CONTROL_TOKEN   "pvmm-control"
#define HOLDER_TOKEN    "pvmm-holder"
#define REQUEST_MAX     32

static struct control_stats stats;
static struct {
    void (*fn)(void *ctx);
    void *ctx;
} holder, on_resume;

int control_init(void)
{
    if ( !xs_available() )
        return -XEN_ENODEV;
    return xs_watch(CONTROL_NODE, CONTROL_TOKEN);
}

int control_watch(const char *path, void (*fn)(void *ctx), void *ctx)
{
    holder.fn = fn;
    holder.ctx = ctx;
    return xs_watch(path, HOLDER_TOKEN);
}

void control_on_resume(void (*fn)(void *ctx), void *ctx)
{
    on_resume.fn = fn;
    on_resume.ctx = ctx;
}

const struct control_stats *control_get_stats(void)
{
    return &stats;
}

static void __noreturn shut_down(const char *what, unsigned int reason)
{
    printk("pvmm: control: %s requested\n", what);
    (void)cons_flush(CONS_RING_WAIT_NS);
    sched_shutdown(reason);
}

static void do_suspend(void)
{
    struct suspend_report r;

    suspend_domain(&r);
    if ( r.rc )
    {
        stats.suspends_refused++;
        return;
    }
    printk("pvmm: control: resumed %s (shared_info %#lx -> %#lx, store "
           "port %u -> %u, console port %u -> %u)\n",
           r.new_domain ? "in a new domain" : "after a cancelled suspend",
           r.shared_info_old, r.shared_info_new, r.store_port_old,
           r.store_port_new, r.console_port_old, r.console_port_new);
    if ( r.xenstore_rc )
        printk("pvmm: control: re-registering xenstore watches: %d\n",
               r.xenstore_rc);
    if ( on_resume.fn )
        on_resume.fn(on_resume.ctx);
}

/* The node changed: a request, or our own acknowledgement. */
static void handle_request(void)
{
    char req[REQUEST_MAX];
    long n = xs_read(CONTROL_NODE, req, sizeof(req));
    int rc;

    if ( n <= 0 )
    {
        if ( n < 0 && n != -XEN_ENOENT )
            printk("pvmm: control: reading %s: %ld\n", CONTROL_NODE, n);
        return;
    }
    stats.requests++;
    if ( (rc = xs_write(CONTROL_NODE, "")) != 0 )
        printk("pvmm: control: acknowledging '%s': %d\n", req, rc);
    if ( !strcmp(req, "poweroff") || !strcmp(req, "halt") )
        shut_down(req, SHUTDOWN_poweroff);
    if ( !strcmp(req, "reboot") )
        shut_down(req, SHUTDOWN_reboot);
    if ( !strcmp(req, "suspend") )
    {
        do_suspend();
        return;
    }
    stats.ignored++;
    printk("pvmm: control: ignoring unknown request '%s'\n", req);
}

unsigned int control_poll(uint64_t deadline_ns)
{
    char path[64], token[32];
    int rc;

    if ( !xs_available() )
    {
        if ( deadline_ns > time_now_ns() )
            time_sleep_until(deadline_ns);
        return 0;
    }
    rc = xs_read_watch(path, sizeof(path), token, sizeof(token),
                       deadline_ns);
    if ( rc )
    {
        if ( rc != -XEN_ETIMEDOUT && rc != -XEN_E2BIG )
            printk("pvmm: control: reading watch events: %d\n", rc);
        return 0;
    }
    if ( !strcmp(token, CONTROL_TOKEN) )
        handle_request();
    else if ( !strcmp(token, HOLDER_TOKEN) && holder.fn )
        holder.fn(holder.ctx);
    return 1;
}
