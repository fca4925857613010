/*
 * `hold` (xen/hold.c): after the result line the kernel stays up for the
 * toolstack instead of shutting down: for xl dump-core, and for xl save,
 * xl restore, xl save -c, xl mem-set, xl shutdown and xl reboot.
 * docs/suspend.md describes the lines it prints:
 *
 *   PVMM-READY n=<resumes>      waiting; the runner may act now
 *   pvmm: resumed n=<count> new_domain=<yes|no> audit=<ok|FAIL>
 *         memory=<ok|FAIL (k bad frames)> frames=<populated>
 *   pvmm: balloon: target <pages> pages: reservation <a> -> <b>
 */
#ifndef PVMM_HOLD_H
#define PVMM_HOLD_H

#include <pvmm/types.h>

struct boot_options;

struct frame_tags;

void __noreturn hold(const struct boot_options *opts);

/*
 * The "pvmm: resumed" line for the last resume: audit, and the tags
 * written before it (a test waiting for a save prints it too).
 */
void hold_report_resume(const struct frame_tags *tags);

#endif /* PVMM_HOLD_H */
