/*
 * The kernel command line (start_info->cmd_line: the dom0 module string,
 * or xl's extra=).  Options are separated by spaces:
 *
 *   tests=GLOB[,GLOB...]   run only the tests whose "group.name" matches
 *   verbose                print extra detail while booting and testing
 *   bench                  run the benchmarks after the tests
 *   audit                  check the p2m's invariants after every test
 *   hold                   after the result, print the p2m's digest and
 *                          block instead of shutting down (xl dump-core,
 *                          xl save/restore, xl shutdown: docs/suspend.md)
 *   await_save             the suspend.* tests wait for the runner to
 *                          save and restore (or checkpoint) the guest;
 *                          without it they skip
 *   p2m_list=tree          publish only the three-level frame list for
 *                          the tools, not the linear list (p2m_cr3 = 0)
 *   p2m_list=linear        publish the linear list (p2m_cr3) even if the
 *                          tools did not set SIF_VIRT_P2M_4TOOLS
 *   p2m_map                print the p2m's layout (P2M-MAP lines) after
 *                          boot, after the tests, while the sparse balloon
 *                          test holds its far frames, and when holding
 *   inject=KIND:N[:VALUE][,...]
 *                          make the Nth call of a kind of hypercall (or
 *                          of frame allocation) fail (pvmm/inject.h)
 *   remap_max=N            as dom0, move at most N frames out of the
 *                          memory map's holes and give the rest back to
 *                          Xen, as on a host with no RAM left to move
 *                          them to (the test of that path)
 *   vcpus=N                the vCPUs the runner gave this domain (xl's
 *                          vcpus=, Xen's dom0_max_vcpus=): the smp tests
 *                          check the count Xen shows against it
 *
 * Anything else is an error that names the offending word.
 */
#ifndef PVMM_CMDLINE_H
#define PVMM_CMDLINE_H

#include <pvmm/types.h>
#include <pvmm/inject.h>

#define CMDLINE_MAX_GLOBS   16
#define CMDLINE_GLOB_LEN    64      /* including the NUL */
#define CMDLINE_ERR_LEN     160

struct boot_options {
    unsigned int nr_globs;
    char globs[CMDLINE_MAX_GLOBS][CMDLINE_GLOB_LEN];
    bool verbose;
    bool bench;
    bool audit;
    bool hold;
    bool await_save;
    bool p2m_map;
    enum { P2M_LIST_AUTO, P2M_LIST_TREE, P2M_LIST_LINEAR } p2m_list;
    unsigned int nr_inject;
    struct inject_rule inject[INJECT_KINDS];
    bool remap_limited;
    unsigned long remap_max;
    unsigned long vcpus;            /* 0: not said */
};

/* The options this boot runs with (arch/x86/setup.c). */
extern struct boot_options boot_opts;

/*
 * Parses at most max_len bytes of cmdline (it need not be NUL-terminated).
 * Returns 0, or -1 with a one-line message in err.  opts is filled from
 * the start either way.
 */
int cmdline_parse(const char *cmdline, size_t max_len,
                  struct boot_options *opts, char err[CMDLINE_ERR_LEN]);

/* A decimal number, or hex after 0x, filling all of s[0..len). */
bool cmdline_parse_ulong(const char *s, size_t len, unsigned long *out);

#endif /* PVMM_CMDLINE_H */
