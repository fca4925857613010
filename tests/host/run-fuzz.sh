#!/usr/bin/env bash
# The p2m fuzzer's part of make test (docs/testing.md, "The p2m fuzzer"):
#   - every kept regression case (tests/host/fuzz-cases/*.ops) replays clean;
#   - the fuzzer catches a planted fault (flushes that do nothing);
#   - the fixed seeds run clean, and run at least FUZZ_MIN_OPS operations.
# Prints one line per check and "N passed, N failed".
set -uo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
fuzz=$top/build/fuzz-p2m
seeds=${FUZZ_SEEDS:-1-560}
ops=${FUZZ_OPS:-2000}
min_ops=${FUZZ_MIN_OPS:-1000000}
passed=0 failed=0

pass() { echo "[ PASS ] $1"; passed=$((passed + 1)); }
fail() { echo "[ FAIL ] $1: $2"; failed=$((failed + 1)); }

for case in "$top"/tests/host/fuzz-cases/*.ops; do
    name=fuzz.case.$(basename "$case" .ops)
    if out=$("$fuzz" --replay "$case" 2>&1); then
        pass "$name"
    else
        fail "$name" "$(echo "$out" | grep -m1 'after op')"
        echo "$out" | tail -n 5
    fi
done

out=$("$fuzz" --sabotage-flush --seeds 1-4 --ops 300 2>&1)
if [ $? -eq 5 ] && echo "$out" | grep -q 'still fail'; then
    pass fuzz.selftest_a_stale_translation_is_caught
else
    fail fuzz.selftest_a_stale_translation_is_caught \
        "flushes that do nothing went unnoticed"
fi

t0=$(date +%s)
out=$("$fuzz" --seeds "$seeds" --ops "$ops" 2>&1)
rc=$?
echo "$out" | tail -n 40
summary=$(echo "$out" | grep -E '^fuzz: [0-9]+ ops' | tail -n 1)
n=$(echo "$summary" | sed -E 's/^fuzz: ([0-9]+) ops.*/\1/')
if [ $rc -ne 0 ] || ! echo "$summary" | grep -q ', 0 failures'; then
    fail fuzz.fixed_seeds "exit $rc: ${summary:-no summary}"
elif [ "${n:-0}" -lt "$min_ops" ]; then
    fail fuzz.fixed_seeds "$n ops, fewer than $min_ops"
else
    pass fuzz.fixed_seeds
fi
echo "         fuzz.fixed_seeds took $((($(date +%s) - t0) * 1000)) ms"
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
