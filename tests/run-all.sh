#!/usr/bin/env bash
# Everything `make test` runs, in order, with one closing line that counts
# every check of every step:
#   host unit tests, ELF checks, the in-guest suite as dom0 for each
#   DOM0_MEM in DOM0_MEMS, and the harness's must-fail self-checks.
# Exits 0 only if every step passed.
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
DOM0_MEMS=${DOM0_MEMS:-64M 512M}
total_pass=0 total_fail=0 total_skip=0
failed_steps=()

# Adds the last "N passed, N failed[, N skipped]" line of $1 to the totals.
count() {
    local line
    line=$(tr -d '\r' < "$1" | grep -E '^[0-9]+ passed, [0-9]+ failed' | tail -n 1)
    [ -n "$line" ] || return 1
    set -- $line
    total_pass=$((total_pass + $1))
    total_fail=$((total_fail + $3))
    [ "${6:-}" = skipped ] && total_skip=$((total_skip + $5))
    return 0
}

step() {    # step NAME COMMAND...: runs it, shows its output, counts it
    local name=$1 out rc
    shift
    out=$top/build/logs/step-$name.out
    echo "==== $name"
    "$@" > "$out" 2>&1
    rc=$?
    grep -v '^(XEN)' "$out" | tr -d '\r'
    if ! count "$out"; then
        echo "$name: no result counts in its output (exit $rc)"
        total_fail=$((total_fail + 1))
        rc=1
    fi
    [ "$rc" -eq 0 ] || failed_steps+=("$name (exit $rc)")
}

guest() {   # the dom0 suite, its console shown without Xen's lines
    local log=$top/build/logs/dom0-$1.log rc
    DOM0_MEM=$1 QUIET=1 LOG=$log CMDLINE=${CMDLINE:-} "$top/tests/run-dom0.sh"
    rc=$?
    tr -d '\r' < "$log" | grep -v '^(XEN)'
    return $rc
}

mkdir -p "$top/build/logs"
start=$(date +%s)
step host "$top/build/host-tests"
step elf "$top/tests/check-elf.sh"
for mem in $DOM0_MEMS; do
    step "dom0-$mem" guest "$mem"
done
step selftest "$top/tests/run-selftest.sh"

echo "===="
echo "make test: $(( $(date +%s) - start )) s"
for s in "${failed_steps[@]}"; do
    echo "failed step: $s"
done
echo "total: $total_pass passed, $total_fail failed, $total_skip skipped"
[ ${#failed_steps[@]} -eq 0 ] && [ "$total_fail" -eq 0 ]
