/*
 * One fuzz run checked against the model (fuzz_check.c), for the two
 * drivers: the seeded one (fuzz_p2m.c) and libFuzzer's (fuzz_libfuzzer.c).
 */
#ifndef FUZZ_CHECK_H
#define FUZZ_CHECK_H

#include "fuzz_ops.h"

/* The auditor's default period, in operations (--audit-every). */
#define FUZZ_AUDIT_EVERY    32

struct fuzz_check_opts {
    unsigned long audit_every;      /* 0: FUZZ_AUDIT_EVERY */
    bool sabotage_flush;            /* the backend's flushes do nothing */
};

/*
 * Boots fr's layout into the core and does its operations, checking after
 * each.  *done counts the operations finished, for a parent process to
 * read (a shared page).  Returns if every check passed; otherwise exits
 * the process with status 1 after one line on stderr.  Call it once per
 * process: the core's state and the backend's mappings are global.
 */
void fuzz_check_run(const struct fuzz_run *fr,
                    const struct fuzz_check_opts *o,
                    volatile unsigned long *done);

#endif /* FUZZ_CHECK_H */
