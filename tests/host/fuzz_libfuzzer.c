/*
 * libFuzzer's driver for the p2m fuzzer (make fuzz-cov): each input's
 * bytes are the choices of a run (fuzz_from_bytes), which fuzz_check.c
 * does and checks against the model.
 *
 * The core's state is global and the backend maps a fixed address range,
 * so a run cannot share a process with the next one.  Each input runs in
 * a forked child; the child's coverage counters (the __sancov_cntrs
 * section clang's -fsanitize=fuzzer fills) are copied back through a
 * shared page before it exits, so libFuzzer sees what the run reached as
 * if it had run in-process.  A failed check, a sanitizer report, a crash
 * or a timeout in the child makes the parent abort(): libFuzzer saves the
 * input as a crash-* file, and this driver prints the run in the replay
 * format (fuzz_ops.h), ready for tests/host/fuzz-cases/.
 *
 * Environment: FUZZ_SABOTAGE_FLUSH=1 makes the backend's flushes do
 * nothing (the self-test: libFuzzer must find a failure);
 * FUZZ_AUDIT_EVERY=N (default 1: after every op).
 */
#define _GNU_SOURCE
#include "fuzz_check.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_OPS         1000
#define RUN_TIMEOUT_S   60

/* Defined by the linker around clang's inline 8-bit coverage counters. */
extern uint8_t __start___sancov_cntrs[];
extern uint8_t __stop___sancov_cntrs[];

static struct fuzz_check_opts opts = { .audit_every = 1 };
static uint8_t *shared_counters;    /* the child's counters, handed back */
static volatile unsigned long *shared_done;

static size_t counters_size(void)
{
    return (size_t)(__stop___sancov_cntrs - __start___sancov_cntrs);
}

static void *shared_map(size_t len)
{
    void *p = mmap(NULL, len ? len : 1, PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_ANONYMOUS, -1, 0);

    if ( p == MAP_FAILED )
    {
        perror("fuzz-cov: mmap");
        exit(4);
    }
    return p;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    const char *e;

    (void)argc;
    (void)argv;
    if ( !counters_size() )
    {
        fprintf(stderr, "fuzz-cov: no coverage counters: build with "
                "clang -fsanitize=fuzzer\n");
        exit(4);
    }
    if ( (e = getenv("FUZZ_SABOTAGE_FLUSH")) && *e == '1' )
        opts.sabotage_flush = true;
    if ( (e = getenv("FUZZ_AUDIT_EVERY")) )
        opts.audit_every = strtoul(e, NULL, 0);
    shared_counters = shared_map(counters_size());
    shared_done = shared_map(sizeof(*shared_done));
    return 0;
}

/* The child: the run, then its counters for the parent. */
static void __attribute__((noreturn)) child(const struct fuzz_run *fr)
{
    signal(SIGALRM, SIG_DFL);       /* libFuzzer's handler would only look */
    alarm(RUN_TIMEOUT_S);
    fuzz_check_run(fr, &opts, shared_done);
    memcpy(shared_counters, __start___sancov_cntrs, counters_size());
    _exit(0);
}

static void report(const struct fuzz_run *fr, int status)
{
    if ( WIFSIGNALED(status) )
        fprintf(stderr, "fuzz-cov: the run died of signal %d after op %lu\n",
                WTERMSIG(status), *shared_done);
    else
        fprintf(stderr, "fuzz-cov: the run failed (exit %d) after op %lu\n",
                WEXITSTATUS(status), *shared_done);
    fprintf(stderr, "fuzz-cov: the run, in the replay format:\n");
    fuzz_write(stderr, fr);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_run fr;
    int status;
    pid_t pid;

    fuzz_from_bytes(data, size, MAX_OPS, &fr);
    *shared_done = 0;
    fflush(NULL);
    pid = fork();
    if ( pid < 0 )
    {
        perror("fuzz-cov: fork");
        exit(4);
    }
    if ( pid == 0 )
        child(&fr);
    if ( waitpid(pid, &status, 0) != pid )
    {
        perror("fuzz-cov: waitpid");
        exit(4);
    }
    if ( !WIFEXITED(status) || WEXITSTATUS(status) != 0 )
    {
        report(&fr, status);
        abort();                    /* libFuzzer keeps the input */
    }
    memcpy(__start___sancov_cntrs, shared_counters, counters_size());
    fuzz_run_free(&fr);
    return 0;
}
