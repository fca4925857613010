/*
 * The kernel command line (start_info->cmd_line: the dom0 module string,
 * or xl's extra=).  Options are separated by spaces:
 *
 *   tests=GLOB[,GLOB...]   run only the tests whose "group.name" matches
 *   verbose                print extra detail while booting and testing
 *   bench                  run the benchmarks after the tests
 *   audit                  check the p2m's invariants after every test
 *
 * Anything else is an error that names the offending word.
 */
#ifndef PVMM_CMDLINE_H
#define PVMM_CMDLINE_H

#include <pvmm/types.h>

#define CMDLINE_MAX_GLOBS   16
#define CMDLINE_GLOB_LEN    64      /* including the NUL */
#define CMDLINE_ERR_LEN     160

struct boot_options {
    unsigned int nr_globs;
    char globs[CMDLINE_MAX_GLOBS][CMDLINE_GLOB_LEN];
    bool verbose;
    bool bench;
    bool audit;
};

/*
 * Parses at most max_len bytes of cmdline (it need not be NUL-terminated).
 * Returns 0, or -1 with a one-line message in err.  opts is filled from
 * the start either way.
 */
int cmdline_parse(const char *cmdline, size_t max_len,
                  struct boot_options *opts, char err[CMDLINE_ERR_LEN]);

#endif /* PVMM_CMDLINE_H */
