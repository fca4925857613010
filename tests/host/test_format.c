/* lib/format.c: the conversions printk relies on. */
#include <pvmm/printk.h>
#include "host_test.h"

static const char *fmt(const char *f, ...)
{
    static char buf[256];
    va_list ap;

    va_start(ap, f);
    vsnprintf(buf, sizeof(buf), f, ap);
    va_end(ap);
    return buf;
}

HOST_TEST(format_integers)
{
    CHECK_STREQ(fmt("%d %i %u", -42, 7, 3000000000U), "-42 7 3000000000");
    CHECK_STREQ(fmt("%ld", -9223372036854775807L - 1), "-9223372036854775808");
    CHECK_STREQ(fmt("%lu", 18446744073709551615UL), "18446744073709551615");
    CHECK_STREQ(fmt("%lld %zu", -1LL, (size_t)12), "-1 12");
}

HOST_TEST(format_hex_and_pointer)
{
    CHECK_STREQ(fmt("%x %X %lx", 0xbeefU, 0xbeefU, 0xffff888000000000UL),
                "beef BEEF ffff888000000000");
    CHECK_STREQ(fmt("%#x %#lx", 0x10U, 0UL), "0x10 0x0");
    CHECK_STREQ(fmt("%p", (void *)0x1234), "0x0000000000001234");
}

HOST_TEST(format_width_and_padding)
{
    CHECK_STREQ(fmt("[%5d]", 42), "[   42]");
    CHECK_STREQ(fmt("[%-5d]", 42), "[42   ]");
    CHECK_STREQ(fmt("[%05d]", -42), "[-0042]");
    CHECK_STREQ(fmt("[%016lx]", 0xabcUL), "[0000000000000abc]");
    CHECK_STREQ(fmt("[%*d]", 4, 7), "[   7]");
    CHECK_STREQ(fmt("[%#06x]", 0xaU), "[0x000a]");
}

HOST_TEST(format_strings_and_chars)
{
    CHECK_STREQ(fmt("%s|%c|%%", "abc", 'z'), "abc|z|%");
    CHECK_STREQ(fmt("[%6s][%-6s]", "ab", "ab"), "[    ab][ab    ]");
    CHECK_STREQ(fmt("%.3s", "abcdef"), "abc");
    CHECK_STREQ(fmt("%.*s", 2, "abcdef"), "ab");
    CHECK_STREQ(fmt("%s", (char *)NULL), "(null)");
}

HOST_TEST(format_unknown_conversion_is_shown)
{
    CHECK_STREQ(fmt("a%qb"), "a%qb");
}

HOST_TEST(snprintf_reports_needed_length_and_terminates)
{
    char small[8];
    size_t n = snprintf(small, sizeof(small), "%s", "0123456789");

    CHECK_EQ(n, 10);
    CHECK_STREQ(small, "0123456");
    CHECK_EQ(snprintf(NULL, 0, "%d", 12345), 5);
}
