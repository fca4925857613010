/* lib/inject.c: the inject= rules, and which call fires. */
#include <pvmm/cmdline.h>
#include <pvmm/inject.h>
#include <pvmm/printk.h>          /* snprintf: lib/format.c's */
#include "host_test.h"

static int parse(const char *line, struct boot_options *o, char *err)
{
    return cmdline_parse(line, strlen(line) + 1, o, err);
}

HOST_TEST(inject_rules_parse_with_and_without_value)
{
    struct boot_options o;
    char err[CMDLINE_ERR_LEN];

    CHECK_EQ(parse("inject=mmu_update:3,populate:0x10:2,mmuext_op:1:-12",
                   &o, err), 0);
    CHECK_EQ(o.nr_inject, 3);
    CHECK_EQ(o.inject[0].kind, INJECT_MMU_UPDATE);
    CHECK_EQ(o.inject[0].nth, 3);
    CHECK(o.inject[0].value == INJECT_DEFAULT);
    CHECK_EQ(o.inject[1].kind, INJECT_POPULATE);
    CHECK_EQ(o.inject[1].nth, 16);
    CHECK_EQ(o.inject[1].value, 2);
    CHECK_EQ(o.inject[2].kind, INJECT_MMUEXT_OP);
    CHECK_EQ(o.inject[2].value, -12);
}

/* "inject=" with one rule more than there are kinds. */
static const char *one_rule_too_many(void)
{
    static char line[256];
    size_t len = 0;
    unsigned int i;

    len += snprintf(line, sizeof(line), "inject=");
    for ( i = 0; i <= INJECT_KINDS; i++ )
        len += snprintf(line + len, sizeof(line) - len, "%smmu_update:%u",
                        i ? "," : "", i + 1);
    return line;
}

HOST_TEST(inject_bad_rules_are_errors_that_say_why)
{
    struct boot_options o;
    char err[CMDLINE_ERR_LEN];

    CHECK_EQ(parse("inject=", &o, err), -1);
    CHECK(strstr(err, "unknown kind") != NULL);
    CHECK_EQ(parse("inject=frobnicate:1", &o, err), -1);
    CHECK(strstr(err, "unknown kind") && strstr(err, "'frobnicate:1'"));
    CHECK_EQ(parse("inject=mmu_update", &o, err), -1);
    CHECK(strstr(err, "no call number") != NULL);
    CHECK_EQ(parse("inject=mmu_update:0", &o, err), -1);
    CHECK(strstr(err, "call number") != NULL);
    CHECK_EQ(parse("inject=mmu_update:x", &o, err), -1);
    CHECK_EQ(parse("inject=mmu_update:99999999999999999999", &o, err), -1);
    CHECK_EQ(parse("inject=mmu_update:1:abc", &o, err), -1);
    CHECK(strstr(err, "value not a number") != NULL);
    CHECK_EQ(parse("inject=mmu_update:1,", &o, err), -1);
    CHECK_EQ(parse(one_rule_too_many(), &o, err), -1);
    CHECK(strstr(err, "more inject rules") != NULL);
}

HOST_TEST(inject_fires_once_at_the_nth_call)
{
    struct inject_rule r = { INJECT_FRAME_ALLOC, 3, -12 };
    unsigned long before = inject_fired_total();
    long v = 0;

    inject_disarm_all();
    CHECK(!inject_fire(INJECT_FRAME_ALLOC, &v));     /* not armed */
    inject_arm(&r);
    CHECK(!inject_fire(INJECT_FRAME_ALLOC, &v));
    CHECK(!inject_fire(INJECT_MMU_UPDATE, &v));      /* other kinds: no */
    CHECK(!inject_fire(INJECT_FRAME_ALLOC, &v));
    CHECK(inject_fire(INJECT_FRAME_ALLOC, &v));
    CHECK_EQ(v, -12);
    CHECK(!inject_fire(INJECT_FRAME_ALLOC, &v));     /* once only */
    CHECK_EQ(inject_fired_total(), before + 1);
    inject_arm(&r);
    inject_disarm_all();
    CHECK(!inject_fire(INJECT_FRAME_ALLOC, &v) &&
          !inject_fire(INJECT_FRAME_ALLOC, &v) &&
          !inject_fire(INJECT_FRAME_ALLOC, &v));
}
