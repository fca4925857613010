/*
 * Fault injection: which call of each kind is to fail, and the parser for
 * the command line's inject= rules (include/pvmm/inject.h has the
 * contract).  Pure logic, so the host unit tests compile it unchanged; the
 * hooks that ask inject_fire() live where the calls are made.
 *
 * State per kind: armed or not, the calls counted since arming, and the
 * one to fail.  A kind fires once and disarms itself, so a sweep can arm
 * the next N knowing nothing else will fail behind its back.
 */
#include <pvmm/inject.h>
#include <pvmm/cmdline.h>
#include <pvmm/printk.h>
#include <pvmm/lib.h>

static const char *const kind_names[INJECT_KINDS] = {
    [INJECT_MMU_UPDATE] = "mmu_update",
    [INJECT_MMUEXT_OP] = "mmuext_op",
    [INJECT_UPDATE_VA_MAPPING] = "update_va_mapping",
    [INJECT_MC_ENTRY] = "mc_entry",
    [INJECT_POPULATE] = "populate",
    [INJECT_DECREASE] = "decrease",
    [INJECT_FRAME_ALLOC] = "frame_alloc",
    [INJECT_VCPU_OP] = "vcpu_op",
    [INJECT_EVTCHN_OP] = "evtchn_op",
};

static struct {
    bool armed;
    unsigned long calls, nth;
    long value;
} state[INJECT_KINDS];

static bool any_armed;
static unsigned long fired_total;

const char *inject_kind_name(enum inject_kind kind)
{
    return kind < INJECT_KINDS ? kind_names[kind] : NULL;
}

void inject_arm(const struct inject_rule *rule)
{
    state[rule->kind].armed = true;
    state[rule->kind].calls = 0;
    state[rule->kind].nth = rule->nth;
    state[rule->kind].value = rule->value;
    any_armed = true;
}

void inject_disarm_all(void)
{
    unsigned int k;

    for ( k = 0; k < INJECT_KINDS; k++ )
        state[k].armed = false;
    any_armed = false;
}

bool inject_fire(enum inject_kind kind, long *value)
{
    if ( !any_armed || !state[kind].armed ||
         ++state[kind].calls != state[kind].nth )
        return false;
    state[kind].armed = false;
    fired_total++;
    if ( value )
        *value = state[kind].value;
    return true;
}

unsigned long inject_fired_total(void)
{
    return fired_total;
}

static int parse_fail(char *err, size_t err_len, const char *why,
                      const char *s, size_t len)
{
    snprintf(err, err_len, "inject: %s in '%.*s'", why,
             (int)MIN(len, 40), s);
    return -1;
}

static bool find_kind(const char *s, size_t len, enum inject_kind *kind)
{
    unsigned int k;

    for ( k = 0; k < INJECT_KINDS; k++ )
        if ( strlen(kind_names[k]) == len && !strncmp(s, kind_names[k], len) )
        {
            *kind = k;
            return true;
        }
    return false;
}

static const char *find_colon(const char *s, const char *end)
{
    while ( s < end && *s != ':' )
        s++;
    return s;
}

int inject_parse_rule(const char *s, size_t len, struct inject_rule *rule,
                      char *err, size_t err_len)
{
    const char *end = s + len, *c1 = find_colon(s, end), *c2;
    unsigned long v;
    bool negative;

    if ( !find_kind(s, c1 - s, &rule->kind) )
        return parse_fail(err, err_len, "unknown kind (mmu_update, "
                          "mmuext_op, update_va_mapping, mc_entry, populate, "
                          "decrease, frame_alloc, vcpu_op, evtchn_op)", s,
                          len);
    if ( c1 == end )
        return parse_fail(err, err_len, "no call number", s, len);
    c2 = find_colon(c1 + 1, end);
    if ( !cmdline_parse_ulong(c1 + 1, c2 - c1 - 1, &rule->nth) || !rule->nth )
        return parse_fail(err, err_len, "call number not a number >= 1", s,
                          len);
    rule->value = INJECT_DEFAULT;
    if ( c2 == end )
        return 0;
    negative = c2 + 1 < end && c2[1] == '-';
    if ( !cmdline_parse_ulong(c2 + 1 + negative, end - c2 - 1 - negative, &v) ||
         v > 0x7fffffffUL )
        return parse_fail(err, err_len, "value not a number", s, len);
    rule->value = negative ? -(long)v : (long)v;
    return 0;
}
