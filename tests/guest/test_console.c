/*
 * Console output is accepted whole, LF becomes CRLF, and (as a domU) the
 * consumer drains the ring.
 */
#include <pvmm/test.h>
#include <pvmm/console.h>
#include <pvmm/shared_info.h>
#include <pvmm/printk.h>

TEST(console, output_accepted_whole)
{
    const struct cons_stats *s = cons_get_stats();
    uint64_t written = s->bytes_written, lost = s->bytes_lost;
    uint64_t errors = s->write_errors;
    /* 300 bytes: more than one printk chunk and one console chunk. */
    static const char line[] =
        "console test line: "
        "0123456789012345678901234567890123456789012345678901234567890123"
        "0123456789012345678901234567890123456789012345678901234567890123"
        "0123456789012345678901234567890123456789012345678901234567890123"
        "0123456789012345678901234567890123456789012";

    printk("%s\n", line);

    ASSERT_EQ(s->ring, !xen_is_dom0());
    /* Every byte plus the CR added before the LF. */
    ASSERT_EQ(s->bytes_written - written, sizeof(line) - 1 + 2);
    ASSERT_EQ(s->bytes_lost - lost, 0);
    ASSERT_EQ(s->write_errors - errors, 0);
}

TEST(console, ring_drained)
{
    const struct xencons_interface *ring = cons_ring();

    if ( xen_is_dom0() )
        SKIP("dom0 writes through console_io, which has no ring");
    ASSERT_TRUE(ring != NULL);
    ASSERT_EQ(cons_flush(CONS_RING_WAIT_NS), 0);
    ASSERT_EQ(ring->out_cons, ring->out_prod);
    ASSERT_EQ(cons_get_stats()->bytes_lost, 0);
}
