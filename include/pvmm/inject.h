/*
 * Fault injection (lib/inject.c; the hooks are in xen/multicall.c,
 * mm/balloon.c, mm/frame.c and arch/x86/smp.c): make the Nth call of one kind of
 * hypercall, or of frame allocation, fail as Xen or the allocator could,
 * so that every error path of mm/ can be reached on purpose.
 *
 * A kind is armed with a count N and a value: the Nth call of that kind
 * after arming is the one that fails, once; then the kind is disarmed.
 * What "fails" means per kind:
 *
 *   mmu_update, mmuext_op   that request of its batch is refused with the
 *                           value (an -XEN_E* code; default -XEN_EINVAL);
 *                           Xen is handed only the requests before it, so
 *                           what it reports done is really done, as when
 *                           Xen itself stops at a bad request
 *   update_va_mapping       the call is not made and returns the value
 *   mc_entry                a whole multicall entry is not made and
 *                           returns the value
 *   populate, decrease      XENMEM_populate_physmap /
 *                           XENMEM_decrease_reservation: a value >= 0 is a
 *                           short count (Xen is asked for at most that
 *                           many extents; default half the request), a
 *                           negative value is returned without calling Xen
 *   frame_alloc             frame_alloc() returns INVALID_PFN
 *   vcpu_op                 a VCPUOP_* call of arch/x86/smp.c is not made
 *                           and returns the value (default -XEN_EINVAL)
 *   evtchn_op               an EVTCHNOP_bind_ipi or EVTCHNOP_send of
 *                           arch/x86/smp.c, likewise
 *
 * On the command line: inject=KIND:N[:VALUE][,KIND:N[:VALUE]...], armed
 * before mm is set up, so N counts from boot.  The in-guest sweep
 * (tests/guest/test_inject.c) arms kinds itself around one operation.
 *
 * Not locked: only vCPU 0 arms kinds and makes the calls they count.
 */
#ifndef PVMM_INJECT_H
#define PVMM_INJECT_H

#include <pvmm/types.h>

enum inject_kind {
    INJECT_MMU_UPDATE,
    INJECT_MMUEXT_OP,
    INJECT_UPDATE_VA_MAPPING,
    INJECT_MC_ENTRY,
    INJECT_POPULATE,
    INJECT_DECREASE,
    INJECT_FRAME_ALLOC,
    INJECT_VCPU_OP,
    INJECT_EVTCHN_OP,
    INJECT_KINDS
};

/* The value that means "the kind's default failure": LONG_MIN. */
#define INJECT_DEFAULT      (-0x7fffffffffffffffL - 1)

struct inject_rule {
    enum inject_kind kind;
    unsigned long nth;          /* 1 = the first call after arming */
    long value;                 /* as above, or INJECT_DEFAULT */
};

/* The kind's name on the command line, or NULL past the last kind. */
const char *inject_kind_name(enum inject_kind kind);

/*
 * Parses "KIND:N[:VALUE]" (len bytes, need not be NUL-terminated) into
 * rule.  Returns 0, or -1 with a one-line reason in err.
 */
int inject_parse_rule(const char *s, size_t len, struct inject_rule *rule,
                      char *err, size_t err_len);

/* Arms rule (replacing what its kind had); disarms every kind. */
void inject_arm(const struct inject_rule *rule);
void inject_disarm_all(void);

/*
 * Counts one call of kind.  Returns true if this call is the one to fail,
 * with the value to fail with in *value (the default resolved by the
 * caller where it depends on the call, as for a short count).
 */
bool inject_fire(enum inject_kind kind, long *value);

/* Faults injected since boot. */
unsigned long inject_fired_total(void);

#endif /* PVMM_INJECT_H */
