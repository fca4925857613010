/* mm/pmap_report.c: the exhaustion message names every slot's holder. */
#include <pvmm/pmap.h>
#include "host_test.h"

HOST_TEST(pmap_exhaustion_message_names_holders)
{
    struct pmap_slot slots[3] = {
        { _mfn(0x1234), "fill_l1", true },
        { _mfn(0xabc), "zero_page", true },
        { _mfn(0x5), NULL, false },
    };
    char buf[256];
    size_t n = pmap_describe_full(buf, sizeof(buf), slots, 3);

    CHECK_STREQ(buf, "PMAP: all 3 slots in use: slot 0 mfn 0x1234 (fill_l1),"
                " slot 1 mfn 0xabc (zero_page), slot 2 mfn 0x5 (?)");
    CHECK_EQ(n, strlen(buf));
}

HOST_TEST(pmap_exhaustion_message_reports_full_length_when_cut)
{
    struct pmap_slot slots[PMAP_SLOTS];
    char small[40];
    size_t n;
    int i;

    for ( i = 0; i < PMAP_SLOTS; i++ )
        slots[i] = (struct pmap_slot){ _mfn(i), "holder", false };
    n = pmap_describe_full(small, sizeof(small), slots, PMAP_SLOTS);
    CHECK(n > sizeof(small));
    CHECK_EQ(strlen(small), sizeof(small) - 1);
}
