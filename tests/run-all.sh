#!/usr/bin/env bash
# Everything `make test` runs, with one closing line that counts every
# check of every step:
#   host unit tests, the p2m core's fuzzer (tests/host/run-fuzz.sh), the
#   layer checker's self-test, ELF checks, the
#   in-guest suite as dom0 for each configuration in DOM0_CONFIGS (two
#   QEMUs at a time: a TCG guest keeps one core busy), the suite as domUs
#   under `xl create` from a Linux dom0 (DOMU_MATRIX, with xl dump-core
#   cross-checks of the published p2m), gdb attached to QEMU's gdbstub
#   (tests/run-gdb.sh --check), and the harness's must-fail self-checks.
# Exits 0 only if every step passed.
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
# DOM0_MEM:QEMU_MEM (MiB), run in pairs: keep the two big ones apart.
# 33M: tiny.  64M in 4.5 GiB: machine holes below max_mfn, whole identity
# chunks.  129M: nr_pages not a multiple of 512.  4095M on 5000: dom0's
# nr_pages ends inside the PCI hole.  4160M on 6 GiB: just above 4 GiB.
# 4608M on 6 GiB: the PCI hole sits inside dom0's pfns, RAM above 4 GiB.
# A third field adds options ('+' for a space): 129M moves only 40 frames
# out of the 640K-1M hole and gives the other 57 back to Xen, as when no
# RAM is left, Xen taking only 10 at the first call.
# A vcpus=N option also gives dom0 N vCPUs (VCPUS): 512M runs the whole
# suite on 2.  An empty DOM0_CONFIGS skips the dom0 runs.
DOM0_CONFIGS=${DOM0_CONFIGS-33M:512 64M:4608 129M:512:remap_max=40+inject=decrease:1:10 512M:1024:vcpus=2 1025M:2048 4095M:5000 4160M:6144 4608M:6144}
GUEST_CMDLINE=${CMDLINE:-audit}
# name:memory:maxmem:command line (tests/xl/run-domu.sh).  129: odd size,
# and two vCPUs (vcpus=2 also sets xl's vcpus=, tests/xl/job.sh); smp4u:
# the smp.* and spinlock.* tests on four vCPUs under xl;
# 128/1024: balloons up to maxmem; dump-*: xl dump-core checked against
# the guest's own p2m, through the linear list and the frame list.
# save5: the suspend.* tests across one xl save/restore, then five more
# rounds on the held kernel with a balloon step between them, a
# checkpoint (xl save -c) and xl shutdown; save2v: the same with two
# vCPUs, both up over every save and checkpoint (the suspend takes the
# second down and brings it back); reboot: xl reboot; far: frames
# above 512 GiB, saved and restored through the linear list (p2m_cr3):
# the tools write 8 bytes per pfn up to max_pfn (a 1.1 GB file) and
# restore keeps a p2m of that size, hence dom0's 3 GiB (DOMU_DOM0_MEM),
# and each xl call may take 600 s (DOMU_ACTION_TIMEOUT): that save took
# 238 s in one CI run and passed run-domu's default of 300 s in another
# (docs/suspend.md).  An empty DOMU_MATRIX skips the domU step.
SAVE_ROUNDS="save balloon:48 save balloon:64 save balloon:40 save balloon:64 save checkpoint shutdown"
DOMU_MATRIX=${DOMU_MATRIX-m64:64:64:audit;m129:129:129:audit vcpus=2;smp4u:96:96:tests=smp.*,spinlock.* audit vcpus=4;m128max1024:128:1024:audit;m1025:1025:1025:audit;dump-linear:64:64:tests=boot.*,p2m.* audit hold p2m_list=linear;dump-tree:64:64:tests=boot.*,p2m.* audit hold p2m_list=tree;save5:64:96:tests=suspend.* audit await_save hold|save $SAVE_ROUNDS;save2v:64:96:tests=suspend.* audit await_save vcpus=2 hold|save balloon:48 save checkpoint shutdown;reboot:32:32:tests=boot.* hold|reboot;far:64:64:tests=suspend.far_frames_survive_through_the_linear_list audit await_save p2m_list=linear hold|save shutdown}
total_pass=0 total_fail=0 total_skip=0
failed_steps=()
# Lines that say what failed: a test, a guest's result or its ending.
failure_lines='\[ FAIL \]|Test result: (FAILURE|ERROR|NONE)|: end: |never ballooned|match=no|no result|dom0 did not finish|dom0 died before'
logs=$top/build/logs
mkdir -p "$logs"
failures=$logs/failures.txt
: > "$failures"
# A line per step for tests/junit.py: name, exit, seconds, output, serial.
manifest=$logs/steps.tsv
: > "$manifest"
# Never leave an earlier run's results for a CI system to pick up.
junit=$top/build/test-results.xml
rm -f "$junit"

# Adds the last "N passed, N failed[, N skipped]" line of $1 to the totals
# and sets counted_fail to its failures.  Without one (the run crashed or
# was cut off), adds its result lines instead, a test that started and
# never reported as failed (tests/count-results.awk), and returns 1.
count() {
    local line
    # "N passed, N failed[, N skipped]", maybe after one "word:".
    line=$(tr -d '\r' < "$1" | grep -E '^([A-Za-z0-9_-]+: )?[0-9]+ passed, [0-9]+ failed' \
           | tail -n 1 | sed -E 's/^[A-Za-z0-9_-]+: //')
    if [ -z "$line" ]; then
        set -- $(awk -f "$top/tests/count-results.awk" "$1" 2>/dev/null)
        total_pass=$((total_pass + ${1:-0}))
        total_fail=$((total_fail + ${2:-0}))
        total_skip=$((total_skip + ${3:-0}))
        counted_fail=${2:-0}
        return 1
    fi
    set -- $line
    total_pass=$((total_pass + $1))
    total_fail=$((total_fail + $3))
    counted_fail=$3
    [ "${6:-}" = skipped ] && total_skip=$((total_skip + $5))
    return 0
}

# Shows a finished step's output and counts it; $3 is its exit code.
report() {
    local name=$1 out=$2 rc=$3
    echo "==== $name"
    grep -v '^(XEN)' "$out" | tr -d '\r'
    if ! count "$out"; then
        echo "$name: no result counts in its output (exit $rc)"
        rc=1
    fi
    # A failed step counts as at least one failure (tests/junit.py gives
    # it an <error> testcase, run.result, the same way).
    if [ "$rc" -ne 0 ] && [ "$counted_fail" -eq 0 ]; then
        total_fail=$((total_fail + 1))
    fi
    [ "$rc" -eq 0 ] || failed_steps+=("$name (exit $rc)")
    # What failed, repeated at the very end: a CI log is often read from
    # its tail, and a step's own lines may be far above it.
    [ "$rc" -eq 0 ] && [ "$counted_fail" -eq 0 ] ||
        grep -v '^(XEN)' "$out" | tr -d '\r' | grep -E "$failure_lines" |
        head -n 20 | sed "s|^|$name: |" >> "$failures"
}

since() {       # since START: seconds from START (date +%s.%N) to now
    awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.3f", b - a }'
}

note_step() {   # note_step NAME RC SECONDS OUTPUT [SERIAL_LOG]
    printf '%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "${5:-}" >> "$manifest"
}

step() {    # step NAME COMMAND...
    local name=$1 out rc t0=$(date +%s.%N)
    out=$logs/step-$name.out
    shift
    "$@" > "$out" 2>&1
    rc=$?
    report "$name" "$out" "$rc"
    note_step "$name" "$rc" "$(since "$t0")" "$out"
}

guest() {   # guest DOM0_MEM QEMU_MEM OUT [OPTIONS [VCPUS]]: console, Xen's too
    DOM0_MEM=$1 QEMU_MEM=$2 QUIET=1 LOG=$3 VCPUS=${5:-1} \
        CMDLINE="$GUEST_CMDLINE${4:+ $4}" \
        TIMEOUT=${TIMEOUT:-900} "$top/tests/run-dom0.sh" 2>> "$3.runner"
}

run_guests() {  # two at a time; reported in order
    local configs=($DOM0_CONFIGS) i j pids=() mem qmem extra vcpus
    for ((i = 0; i < ${#configs[@]}; i += 2)); do
        pids=() t0=$(date +%s.%N)
        for ((j = i; j < i + 2 && j < ${#configs[@]}; j++)); do
            IFS=: read -r mem qmem extra <<< "${configs[j]}"
            vcpus=$(sed -n 's/^\(.*+\)\{0,1\}vcpus=\([1-9]\)\(+.*\)\{0,1\}$/\2/p' <<< "$extra")
            rm -f "$logs/dom0-$mem.log.runner"
            guest "$mem" "$qmem" "$logs/dom0-$mem.log" "${extra//+/ }" \
                "$vcpus" &
            pids+=($!)
        done
        for ((j = i; j < i + 2 && j < ${#configs[@]}; j++)); do
            wait "${pids[j - i]}"
            local rc=$? mem=${configs[j]%%:*}
            cat "$logs/dom0-$mem.log.runner" >> "$logs/dom0-$mem.log"
            report "dom0-$mem" "$logs/dom0-$mem.log" "$rc"
            note_step "dom0-$mem" "$rc" "$(since "$t0")" \
                "$logs/dom0-$mem.log"
        done
    done
}

start=$(date +%s)
step host "$top/build/host-tests"
step fuzz "$top/tests/host/run-fuzz.sh"
step elf "$top/tests/check-elf.sh"
step junit-unit python3 "$top/tests/test_junit.py"
step layers "$top/tests/check-layers-selftest.sh"
step mutants-list "$top/tests/mutants/run.sh" --validate
step mutants-suspend-list env MUTANT_LIST="$top/tests/mutants/suspend.txt" \
    "$top/tests/mutants/run.sh" --validate
run_guests
# Every TEST() defined ran in each dom0 configuration (the full suite).
if [ -z "${CMDLINE:-}" ]; then
    dom0_logs=()
    for c in $DOM0_CONFIGS; do dom0_logs+=("$logs/dom0-${c%%:*}.log"); done
    [ ${#dom0_logs[@]} -eq 0 ] ||
        step suite "$top/tests/check-suite-size.sh" "${dom0_logs[@]}"
fi
# Four vCPUs: the smp.* and spinlock.* tests (512M above runs the whole
# suite on two).
step smp4 env DOM0_MEM=64M QEMU_MEM=1024 VCPUS=4 TIMEOUT=600 QUIET=0 \
    CMDLINE="tests=smp.*,spinlock.* audit vcpus=4" LOG="$logs/smp4.log" \
    "$top/tests/run-dom0.sh"
# gdb on QEMU's gdbstub: a breakpoint in guest code, p2m entries read from
# machine memory, and the run still ends in SUCCESS after detaching.  The
# same boot dumps the p2m's layout (p2m_map), which the next step checks.
step gdb env CMDLINE="tests=p2m.*,balloon.sparse* audit p2m_map" \
    DOM0_MEM=64M QEMU_MEM=512 TIMEOUT=300 LOG="$logs/gdb.log" \
    "$top/tests/run-gdb.sh" --check
step p2m-map "$top/tests/check-p2m-map.sh" "$logs/gdb.log"
if [ -n "$DOMU_MATRIX" ]; then
    # dom0 here is Linux with the toolstack: not the pvmm DOM0_MEM.
    step domU env -u QEMU_MEM -u CMDLINE MATRIX="$DOMU_MATRIX" \
        DOM0_MEM=${DOMU_DOM0_MEM:-3072} \
        QUIET=1 TIMEOUT=${DOMU_TIMEOUT:-2400} GUEST_TIMEOUT=240 \
        ACTION_TIMEOUT=${DOMU_ACTION_TIMEOUT:-600} \
        LOG="$logs/domU-serial.log" \
        "$top/tests/xl/run-domu.sh"
    # The guests' consoles are in the serial log: one suite each.
    sed -i '$ s|\t$|\t'"$logs/domU-serial.log"'|' "$manifest"
fi
step selftest "$top/tests/run-selftest.sh"

# JUnit XML for CI systems, read back and checked against the totals.
if ! python3 "$top/tests/junit.py" write "$junit" "$manifest" ||
   ! python3 "$top/tests/junit.py" check "$junit" \
        "$total_pass" "$total_fail" "$total_skip"; then
    failed_steps+=("junit (build/test-results.xml is missing, malformed or wrong)")
fi

echo "===="
echo "make test: $(( $(date +%s) - start )) s"
for s in "${failed_steps[@]}"; do
    echo "failed step: $s"
done
sed 's/^/failed: /' "$failures"
echo "total: $total_pass passed, $total_fail failed, $total_skip skipped"
[ ${#failed_steps[@]} -eq 0 ] && [ "$total_fail" -eq 0 ]
