#!/usr/bin/env bash
# The harness checking itself under Xen: runs that must NOT succeed, and
# the exit code and message each must produce.  A runner that reported
# SUCCESS for a failing test would pass everything else silently.
#
# Prints one line per check and "N passed, N failed".
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
passed=0 failed=0

expect() {  # expect NAME CMDLINE EXIT_CODE REGEX...
    local name=$1 cmdline=$2 want=$3 rc log text missing=
    shift 3
    log=$top/build/logs/selftest-$name.log
    rm -f "$log"                    # never match an earlier run's log
    CMDLINE=$cmdline QUIET=1 LOG=$log "$top/tests/run-dom0.sh" 2>/dev/null
    rc=$?
    set -- '^pvmm: booting as dom0 ' "$@"     # a run that never booted fails
    # One read, then here-strings: `tr | grep -q` under pipefail fails
    # whenever grep quits early and tr gets SIGPIPE.
    text=$(tr -d '\r' < "$log")
    for re in "$@"; do
        grep -qE -- "$re" <<< "$text" || missing+=" '$re'"
    done
    if [ "$rc" = "$want" ] && [ -z "$missing" ]; then
        echo "[ PASS ] selftest.$name (exit $rc)"
        passed=$((passed + 1))
    else
        echo "[ FAIL ] selftest.$name: exit $rc (want $want);" \
             "missing:${missing:- nothing} (log: $log)"
        failed=$((failed + 1))
    fi
}

# A failing assertion: FAILURE (5), with file:line, expression, both values.
expect assertion_fails "tests=selftest.assertion_fails" 5 \
    '^\[ FAIL \] selftest\.assertion_fails: tests/guest/test_selftest\.c:[0-9]+: xen_start_info->nr_pages == expected: xen_start_info->nr_pages = 0x[0-9a-f]+ \([0-9]+\), expected = 0x[0-9a-f]+ \([0-9]+\)$' \
    '^0 passed, 1 failed, 0 skipped$' \
    '^Test result: FAILURE$'

# An unknown option: ERROR (4), naming it, and no test runs.
expect unknown_option "verbose frobnicate=1" 4 \
    "^pvmm: unknown option 'frobnicate=1'$" \
    '^0 passed, 0 failed, 0 skipped$' \
    '^Test result: ERROR$'

# A pattern that selects nothing is a mistake, not a pass.
expect pattern_selects_nothing "tests=no_such_group.*" 4 \
    '^pvmm: tests=no_such_group\.\* selects no test$' \
    '^Test result: ERROR$'

# An unexpected page fault: PANIC with the vector and cr2, then ERROR.
expect unexpected_fault_panics "tests=selftest.unexpected_fault_panics" 4 \
    '^PANIC: unexpected #PF page fault \(vector 14\) at rip 0x' \
    'cr2 00007fff00000008' \
    '^Test result: ERROR$'

# PMAP exhaustion: the panic names each slot's mfn and holder.
expect pmap_exhaustion_panics "tests=selftest.pmap_exhaustion_panics" 4 \
    '^PANIC: PMAP: all 8 slots in use: slot 0 mfn 0x[0-9a-f]+ \(test_selftest_pmap_exhaustion_panics\),( slot [1-7] mfn 0x[0-9a-f]+ \(test_selftest_pmap_exhaustion_panics\),?){7}$' \
    '^Test result: ERROR$'

# Xen refusing a PMAP mapping: the refusal, then a panic naming the slot.
expect pmap_refused_mapping_panics "tests=selftest.pmap_refused_mapping_panics" 4 \
    '^multicall: update_va_mapping of 0x[0-9a-f]+, issued alone, failed: -1$' \
    '^PANIC: PMAP: mapping mfn 0x[0-9a-f]+ in slot 0 for test_selftest_pmap_refused_mapping_panics failed: -1$' \
    '^Test result: ERROR$'
# dom0's hole frames that Xen will not take back: the panic says so.
expect hole_release_refused_panics \
    "remap_max=40 inject=decrease:1:-12 tests=boot.start*" 4 \
    '^p2m: no RAM pfn left to move the frames of pfns 0x[0-9a-f]+-0xff to: giving them back to Xen$' \
    '^p2m: Xen took back no frame of pfns 0x[0-9a-f]+-0xff \(mfn 0x[0-9a-f]+ first\): -12$' \
    "^PANIC: mm: cannot give back the frames of dom0's holes: -12$" \
    '^Test result: ERROR$'
# A second result line after the first: the runner reads on and says ERROR.
expect second_result_line_is_an_error \
    "tests=selftest.second_result_line_is_an_error" 4 \
    '^Test result: SUCCESS$'

# Locks against their order, and a lock taken twice: panics that name them.
expect lock_order_violation_panics \
    "tests=selftest.lock_order_violation_panics" 4 \
    '^PANIC: spinlock: vCPU 0 takes selftest\.a \(order 1\) while holding selftest\.b \(order 2\)$' \
    '^Test result: ERROR$'
expect recursive_lock_panics "tests=selftest.recursive_lock_panics" 4 \
    '^PANIC: spinlock: vCPU 0 takes selftest\.a, which it holds already$' \
    '^Test result: ERROR$'

# Xen refusing vCPU 0's VCPUOP_register_vcpu_info (the first vcpu_op):
# it says so and keeps its shared_info slot, which still works.
expect refused_vcpu_info_keeps_the_slot \
    "inject=vcpu_op:1 tests=boot.*,traps.*" 0 \
    '^smp: VCPUOP_register_vcpu_info\(0\) failed: -22; it keeps its slot in shared_info$' \
    '^Test result: SUCCESS$'

# The benchmarks run and print every figure (make bench must not rot).
expect bench_prints_every_figure "bench tests=boot.start*" 0 \
    '^BENCH mm\.init\.directmap cycles=[0-9]+ .*hypercalls=[0-9]+' \
    '^BENCH p2m\.lookup\.tree cycles_per_op=[0-9]+' \
    '^BENCH p2m\.lookup\.linear cycles_per_op=[0-9]+' \
    '^BENCH p2m\.lookup\.array cycles_per_op=[0-9]+' \
    '^BENCH pt\.pin\.batched\.pages4096 .*hypercalls=[0-9]+ .*tlb_flushes=1 .*met=yes$' \
    '^BENCH p2m\.memory\.sparse pages=[0-9]+ .*flat_array_pages=[0-9]+' \
    '^BENCH pt\.pin\.unbatched\.pages4096 .*hypercalls=4098 ' \
    '^BENCH balloon\.populate\.frames1000 cycles=[0-9]+' \
    '^BENCH smp\.p2m_set\.private_lock_free cycles=[0-9]+' \
    '^BENCH smp\.p2m_set\.private_locked cycles=[0-9]+ .*hypercalls=0$' \
    '^Test result: SUCCESS$'

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
