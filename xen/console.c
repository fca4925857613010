/*
 * Console output.
 *
 * dom0: each chunk is one HYPERVISOR_console_io(CONSOLEIO_write); Xen
 * copies it to its serial console synchronously.
 *
 * domU: the PV console ring (io/console.h).  We are the producer of out[]:
 * copy bytes at out_prod, make them visible (wmb), advance out_prod, then
 * kick the console event channel.  xenconsoled in dom0 advances out_cons.
 * When the ring is full we wait for out_cons, but only for a bounded time:
 * if the consumer is gone the bytes are counted as lost rather than
 * hanging the kernel, and later writes do not wait again until the ring
 * moves.  cons_flush() gives the consumer a bounded chance to catch up
 * before the domain shuts down.
 *
 * Any vCPU may write: one write at a time holds the console lock, so
 * lines do not interleave below printk's 128-byte pieces.  A vCPU that
 * panics inside its own write (it holds the lock already) writes on
 * without it, so the panic message still goes out.
 */
#include <pvmm/console.h>
#include <pvmm/hypercall.h>
#include <pvmm/events.h>
#include <pvmm/early_map.h>
#include <pvmm/sched.h>
#include <pvmm/time.h>
#include <pvmm/spinlock.h>

static struct spinlock cons_lock = SPINLOCK_INIT("console",
                                                LOCK_ORDER_CONSOLE);
static struct cons_stats stats;
static struct xencons_interface *ring;
static evtchn_port_t ring_port;
static bool ring_stalled;

static uint8_t ring_page[PAGE_SIZE]
    __section(".bss.page_aligned") __aligned(PAGE_SIZE);

void cons_init(const start_info_t *si)
{
    int rc;

    if ( si->flags & SIF_INITDOMAIN )
        return;                 /* console_io, the default */

    rc = early_map_mfn(ring_page, _mfn(si->console.domU.mfn), PTE_KERNEL_RW);
    if ( rc )
    {
        /* Keep console_io: a debug Xen still shows it. */
        stats.last_error = rc;
        return;
    }
    ring = (struct xencons_interface *)ring_page;
    ring_port = si->console.domU.evtchn;
    stats.ring = true;
}

void cons_resume(const start_info_t *si)
{
    if ( !ring )
        return;
    ring_port = si->console.domU.evtchn;
    ring_stalled = false;
    (void)evtchn_unmask(ring_port);
}

static void ring_notify(void)
{
    int rc = evtchn_send(ring_port);

    if ( rc )
        stats.last_error = rc;
}

/* Free bytes in out[] if the producer index were prod. */
static size_t ring_space(XENCONS_RING_IDX prod)
{
    XENCONS_RING_IDX cons = READ_ONCE(ring->out_cons);

    return sizeof(ring->out) - (prod - cons);
}

/* Waits (bounded) until the ring has room; false if it stayed full. */
static bool ring_wait_for_space(XENCONS_RING_IDX prod)
{
    uint64_t deadline;

    if ( ring_space(prod) )
    {
        ring_stalled = false;
        return true;
    }
    if ( ring_stalled )
        return false;

    ring_notify();
    deadline = time_now_ns() + CONS_RING_WAIT_NS;
    while ( !ring_space(prod) )
    {
        if ( time_now_ns() > deadline )
        {
            ring_stalled = true;
            return false;
        }
        sched_yield();
    }
    return true;
}

static void ring_put(const char *s, size_t len)
{
    XENCONS_RING_IDX prod = ring->out_prod;
    size_t i;

    for ( i = 0; i < len; i++ )
    {
        if ( !ring_space(prod) )
        {
            wmb();              /* bytes before the index that covers them */
            ring->out_prod = prod;
            if ( !ring_wait_for_space(prod) )
            {
                stats.bytes_lost += len - i;
                break;
            }
        }
        ring->out[MASK_XENCONS_IDX(prod, ring->out)] = s[i];
        prod++;
        stats.bytes_written++;
    }
    wmb();
    ring->out_prod = prod;
    ring_notify();
}

static void hypercall_put(const char *s, size_t len)
{
    long rc = HYPERVISOR_console_io(CONSOLEIO_write, len, s);

    if ( rc < 0 )
    {
        stats.write_errors++;
        stats.bytes_lost += len;
        stats.last_error = rc;
        return;
    }
    stats.bytes_written += len;
}

static void put_chunk(const char *s, size_t len)
{
    if ( ring )
        ring_put(s, len);
    else
        hypercall_put(s, len);
}

static void write_unlocked(const char *s, size_t len)
{
    char chunk[128];
    size_t n = 0;

    for ( ; len; s++, len-- )
    {
        if ( n + 2 > sizeof(chunk) )
        {
            put_chunk(chunk, n);
            n = 0;
        }
        if ( *s == '\n' )
            chunk[n++] = '\r';
        chunk[n++] = *s;
    }
    if ( n )
        put_chunk(chunk, n);
}

void cons_write(const char *s, size_t len)
{
    if ( spin_is_mine(&cons_lock) )
    {
        write_unlocked(s, len);     /* a panic inside this vCPU's write */
        return;
    }
    spin_lock(&cons_lock);
    write_unlocked(s, len);
    spin_unlock(&cons_lock);
}

int cons_flush(uint64_t timeout_ns)
{
    uint64_t deadline;

    if ( !ring )
        return 0;
    ring_notify();
    deadline = time_now_ns() + timeout_ns;
    while ( READ_ONCE(ring->out_cons) != ring->out_prod )
    {
        if ( time_now_ns() > deadline )
            return -XEN_ETIMEDOUT;
        sched_yield();
    }
    return 0;
}

const struct cons_stats *cons_get_stats(void)
{
    return &stats;
}

const struct xencons_interface *cons_ring(void)
{
    return ring;
}
