/*
 * Benchmarks (tests/bench/), run after the tests with `bench`.
 *
 * Each figure is one line:
 *     BENCH <name> <key>=<value> ...
 * Cycles come from rdtsc, as medians over BENCH_REPS repetitions with
 * their min and max.  Under QEMU/TCG every instruction is emulated, so
 * absolute cycle counts are not hardware figures: compare ratios taken
 * in the same boot.
 */
#ifndef PVMM_BENCH_H
#define PVMM_BENCH_H

#include <pvmm/types.h>
#include <pvmm/stats.h>

#define BENCH_REPS  7

/* Runs every benchmark; returns 0, or -1 if one could not run. */
int bench_main(void);

void bench_p2m(void);
void bench_p2m_memory(void);
void bench_pin(void);
void bench_mm_init(void);
void bench_balloon(void);
void bench_smp(void);

/* Maps npages fresh frames at va in the kernel's tree; 0 or -XEN_E*. */
int bench_map_region(unsigned long va, unsigned long npages);
/* Undoes bench_map_region, frames and tables included. */
void bench_unmap_region(unsigned long va);

void bench_fail(const char *what, int rc);

#endif /* PVMM_BENCH_H */
