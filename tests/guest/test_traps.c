/*
 * Faults are caught through the exception table with the right vector,
 * error code and cr2; the access that faulted had no effect.
 */
#include <pvmm/test.h>
#include <pvmm/traps.h>
#include <pvmm/early_map.h>
#include <pvmm/shared_info.h>
#include <pvmm/layout.h>
#include <pvmm/p2m_boot.h>

/* Nothing maps the lower half: the kernel lives at the top. */
#define UNMAPPED_VA     0x00007fff00000000UL
#define NONCANONICAL_VA 0x8000000000000000UL

static uint64_t test_page[PAGE_SIZE / 8]
    __section(".bss.page_aligned") __aligned(PAGE_SIZE);

static mfn_t test_page_mfn(void)
{
    return pfn_to_mfn(boot_va_to_pfn(test_page));
}

TEST(traps, probe_without_fault_reads_value)
{
    struct exc_fault f = { .vector = 99 };
    uint64_t val = 0;

    test_page[1] = 0x5a5a1234;
    ASSERT_TRUE(!exc_probe_read(&test_page[1], &val, &f));
    ASSERT_EQ(val, 0x5a5a1234);
    ASSERT_EQ(f.vector, 99);        /* untouched when nothing faulted */
}

TEST(traps, write_to_readonly_page_faults)
{
    struct exc_fault f;
    bool faulted;
    int rc, rc_restore;

    test_page[0] = 0x1234;
    rc = early_map_mfn(test_page, test_page_mfn(), PTE_KERNEL_RO);
    faulted = exc_probe_write(&test_page[0], 0xdead, &f);
    rc_restore = early_map_mfn(test_page, test_page_mfn(), PTE_KERNEL_RW);

    ASSERT_EQ(rc, 0);
    ASSERT_EQ(rc_restore, 0);
    ASSERT_TRUE(faulted);
    ASSERT_EQ(f.vector, VEC_PF);
    ASSERT_EQ(f.cr2, (uint64_t)&test_page[0]);
    /* Present, write, kernel mode (Xen clears the user bit for us). */
    ASSERT_EQ(f.error_code & (PFEC_PRESENT | PFEC_WRITE | PFEC_USER),
              PFEC_PRESENT | PFEC_WRITE);
    ASSERT_EQ(test_page[0], 0x1234);
    /* Writable again. */
    ASSERT_TRUE(!exc_probe_write(&test_page[0], 0xbeef, &f));
    ASSERT_EQ(test_page[0], 0xbeef);
}

TEST(traps, write_to_m2p_faults)
{
    unsigned long *entry = &machine_to_phys_mapping[mfn_x(test_page_mfn())];
    unsigned long before = *entry;
    struct exc_fault f;

    ASSERT_TRUE(exc_probe_write(entry, 0, &f));
    ASSERT_EQ(f.vector, VEC_PF);
    ASSERT_EQ(f.cr2, (uint64_t)entry);
    ASSERT_EQ(f.error_code & (PFEC_PRESENT | PFEC_WRITE),
              PFEC_PRESENT | PFEC_WRITE);
    ASSERT_EQ(*entry, before);
}

TEST(traps, read_of_unmapped_address_faults)
{
    struct exc_fault f;
    uint64_t val = 0x77;

    ASSERT_TRUE(exc_probe_read((void *)UNMAPPED_VA, &val, &f));
    ASSERT_EQ(f.vector, VEC_PF);
    ASSERT_EQ(f.cr2, UNMAPPED_VA);
    ASSERT_EQ(f.error_code & (PFEC_PRESENT | PFEC_WRITE), 0);
    ASSERT_EQ(val, 0x77);
}

TEST(traps, noncanonical_access_is_gp)
{
    struct exc_fault f;
    uint64_t val;

    ASSERT_TRUE(exc_probe_read((void *)NONCANONICAL_VA, &val, &f));
    ASSERT_EQ(f.vector, VEC_GP);
}
