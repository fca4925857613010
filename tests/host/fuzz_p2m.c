/*
 * The fuzzer's seeded driver (make test, make fuzz, the replays): runs of
 * fuzz_check.c drawn from seeds, or read from files, each in a child
 * process so that a crash, a sanitizer report or a hang is one failure
 * with its seed.  A failing run is shrunk (ops removed, then simplified)
 * and printed in the replay format (fuzz_ops.h).
 *
 *   fuzz-p2m [--seeds A-B] [--ops N]   fixed seeds (make test)
 *   fuzz-p2m --forever [--ops N]       new seeds until a failure (make fuzz)
 *   fuzz-p2m --replay FILE...          the kept regression cases
 *   fuzz-p2m --sabotage-flush ...      flushes do nothing: must fail
 *   fuzz-p2m --no-shrink ...           a failure's seed only (make mutants-fuzz)
 * Runs go to as many workers as there are CPUs (--jobs); the auditor
 * runs every 32 ops, after every op in which an injected fault fired and
 * at the end of a run (--audit-every 1: every op; make fuzz does that).
 * fuzz_libfuzzer.c drives the same runs from libFuzzer's inputs.
 */
#define _GNU_SOURCE
#include "fuzz_check.h"

#include <pvmm/types.h>             /* MIN, MAX */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_WORKERS     16

/* Shared with the children: ops each worker's run got through. */
static volatile unsigned long *progress;
static struct fuzz_check_opts check_opts = { .audit_every = FUZZ_AUDIT_EVERY };
static bool no_shrink;              /* --no-shrink: report the seed only */

static pid_t start_child(const struct fuzz_run *fr, bool quiet,
                         unsigned int slot)
{
    pid_t pid;

    progress[slot] = 0;
    fflush(NULL);
    pid = fork();
    if ( pid == 0 )
    {
        if ( quiet && !freopen("/dev/null", "w", stderr) )
            _exit(2);
        alarm(300);
        fuzz_check_run(fr, &check_opts, &progress[slot]);
        _exit(0);
    }
    if ( pid < 0 )
    {
        perror("fuzz: fork");
        exit(4);
    }
    return pid;
}

static bool passed(int status)
{
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/* Runs fr in a child; true if it passed.  *done: ops it got through. */
static bool run_in_child(const struct fuzz_run *fr, bool quiet,
                         unsigned long *done)
{
    pid_t pid = start_child(fr, quiet, 0);
    int status;

    if ( waitpid(pid, &status, 0) != pid )
        exit(4);
    *done = progress[0];
    return passed(status);
}

/* ---- shrinking ---- */

static bool still_fails(struct fuzz_run *fr)
{
    unsigned long done;

    return !run_in_child(fr, true, &done);
}

/* Removes ops while the run still fails, halving the cut each round. */
static void shrink_ops(struct fuzz_run *fr)
{
    unsigned long cut, at, n;
    struct fuzz_op *saved = malloc(fr->nr_ops * sizeof(*saved));

    for ( cut = fr->nr_ops / 2; cut >= 1; cut /= 2 )
        for ( at = 0; at + cut <= fr->nr_ops; )
        {
            n = fr->nr_ops;
            memcpy(saved, fr->ops, n * sizeof(*saved));
            memmove(&fr->ops[at], &fr->ops[at + cut],
                    (n - at - cut) * sizeof(*saved));
            fr->nr_ops = n - cut;
            if ( still_fails(fr) )
                continue;
            memcpy(fr->ops, saved, n * sizeof(*saved));
            fr->nr_ops = n;
            at += cut;
        }
    free(saved);
}

/* Then makes each op as plain as it stays failing. */
static void simplify_ops(struct fuzz_run *fr)
{
    struct fuzz_op old;
    unsigned long i;

    for ( i = 0; i < fr->nr_ops; i++ )
    {
        old = fr->ops[i];
        fr->ops[i].fail_alloc = fr->ops[i].refuse = -1;
        if ( !still_fails(fr) )
            fr->ops[i] = old;
        old = fr->ops[i];
        while ( fr->ops[i].len > 1 )
        {
            fr->ops[i].len /= 2;
            if ( still_fails(fr) )
                old = fr->ops[i];
            else
            {
                fr->ops[i] = old;
                break;
            }
        }
    }
}

static void report_failure(struct fuzz_run *fr, unsigned long done)
{
    unsigned long before = fr->nr_ops;

    fr->nr_ops = MIN(fr->nr_ops, done + 1);
    if ( no_shrink )
    {
        fprintf(stderr, "fuzz: seed %lu failed at op %lu\n", fr->seed, done);
        return;
    }
    fprintf(stderr, "fuzz: seed %lu failed at op %lu; shrinking %lu ops\n",
            fr->seed, done, fr->nr_ops);
    shrink_ops(fr);
    simplify_ops(fr);
    fprintf(stderr, "fuzz: seed %lu: %lu of %lu ops still fail; the "
            "sequence (save it as tests/host/fuzz-cases/NAME.ops):\n",
            fr->seed, fr->nr_ops, before);
    fuzz_write(stdout, fr);
    fflush(stdout);
    fprintf(stderr, "fuzz: what it says:\n");
    run_in_child(fr, false, &done);
}

/* ---- main ---- */

static int usage(void)
{
    fprintf(stderr, "usage: fuzz-p2m [--seeds A-B] [--ops N] [--jobs N] "
            "[--audit-every N] [--sabotage-flush] [--forever] [--no-shrink]\n"
            "                [--replay FILE...]\n");
    return 4;
}

struct options {
    unsigned long first, last, ops, audit_every;
    unsigned int jobs;
    bool forever;
    int replay_from;
};

static int parse(int argc, char **argv, struct options *o)
{
    int i;

    long cpus = sysconf(_SC_NPROCESSORS_ONLN);

    *o = (struct options){ .first = 1, .last = 500, .ops = 2000,
                           .audit_every = FUZZ_AUDIT_EVERY,
                           .jobs = cpus < 1 ? 1 : (unsigned int)MIN(cpus, MAX_WORKERS) };
    for ( i = 1; i < argc; i++ )
    {
        if ( !strcmp(argv[i], "--seeds") && i + 1 < argc &&
             sscanf(argv[++i], "%lu-%lu", &o->first, &o->last) == 2 &&
             o->first <= o->last )
            continue;
        if ( !strcmp(argv[i], "--ops") && i + 1 < argc &&
             sscanf(argv[++i], "%lu", &o->ops) == 1 && o->ops )
            continue;
        if ( !strcmp(argv[i], "--audit-every") && i + 1 < argc &&
             sscanf(argv[++i], "%lu", &o->audit_every) == 1 &&
             o->audit_every )
            continue;
        if ( !strcmp(argv[i], "--jobs") && i + 1 < argc &&
             sscanf(argv[++i], "%u", &o->jobs) == 1 && o->jobs &&
             o->jobs <= MAX_WORKERS )
            continue;
        if ( !strcmp(argv[i], "--sabotage-flush") )
        {
            check_opts.sabotage_flush = true;
            continue;
        }
        if ( !strcmp(argv[i], "--no-shrink") )
        {
            no_shrink = true;
            continue;
        }
        if ( !strcmp(argv[i], "--forever") )
        {
            o->forever = true;
            continue;
        }
        if ( !strcmp(argv[i], "--replay") && i + 1 < argc )
        {
            o->replay_from = i + 1;
            return 0;
        }
        return -1;
    }
    return 0;
}

/* The seeds first..last on `jobs` workers; stops at the first failure. */
static unsigned long run_seeds(const struct options *o, unsigned long *failures,
                               unsigned long *last_seed)
{
    struct fuzz_run runs[MAX_WORKERS];
    pid_t pids[MAX_WORKERS] = { 0 };
    unsigned long ops = 0, seed = o->first, running = 0;
    time_t start = time(NULL), said = start;
    unsigned int w;
    int status;
    pid_t pid;

    for ( ;; )
    {
        for ( w = 0; w < o->jobs && !*failures && seed <= o->last; w++ )
            if ( !pids[w] )
            {
                fuzz_generate(seed++, o->ops, &runs[w]);
                pids[w] = start_child(&runs[w], true, w);
                running++;
            }
        if ( !running )
            break;
        if ( (pid = wait(&status)) < 0 )
            exit(4);
        for ( w = 0; w < o->jobs && pids[w] != pid; w++ )
            ;
        if ( w == o->jobs )
            continue;
        pids[w] = 0;
        running--;
        ops += progress[w];
        *last_seed = MAX(*last_seed, runs[w].seed);
        if ( !passed(status) )
        {
            ++*failures;
            report_failure(&runs[w], progress[w]);
        }
        fuzz_run_free(&runs[w]);
        if ( o->forever && time(NULL) - said >= 10 )
        {
            said = time(NULL);
            fprintf(stderr, "fuzz: %lu runs, %lu ops, %lu s\n",
                    seed - o->first, ops, (unsigned long)(said - start));
        }
    }
    return ops;
}

static int replay(int argc, char **argv, int from)
{
    unsigned long failures = 0, ops = 0, done;
    struct fuzz_run fr;
    int i;

    for ( i = from; i < argc; i++ )
    {
        if ( fuzz_read(argv[i], &fr) )
            return 4;
        if ( !run_in_child(&fr, false, &done) )
        {
            fprintf(stderr, "fuzz: %s fails again\n", argv[i]);
            failures++;
        }
        ops += done;
        fuzz_run_free(&fr);
    }
    printf("fuzz: %d regression cases, %lu ops, %lu failures\n",
           argc - from, ops, failures);
    return failures ? 5 : 0;
}

int main(int argc, char **argv)
{
    unsigned long failures = 0, ops, last_seed = 0;
    struct options o;
    time_t start = time(NULL);

    progress = mmap(NULL, MAX_WORKERS * sizeof(*progress),
                    PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if ( progress == MAP_FAILED || parse(argc, argv, &o) )
        return usage();
    check_opts.audit_every = o.audit_every;
    if ( o.replay_from )
        return replay(argc, argv, o.replay_from);
    if ( o.forever )
        o.first = (unsigned long)start * 1000003UL, o.last = ~0UL;
    ops = run_seeds(&o, &failures, &last_seed);
    printf("fuzz: %lu ops, %lu failures (seeds %lu-%lu, %u workers, auditor "
           "every %lu ops, %lu s)\n", ops, failures, o.first, last_seed,
           o.jobs, o.audit_every, (unsigned long)(time(NULL) - start));
    return failures ? 5 : 0;
}

