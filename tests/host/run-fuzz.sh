#!/usr/bin/env bash
# The p2m fuzzer's part of make test (docs/testing.md, "The p2m fuzzer"):
#   - every kept regression case (tests/host/fuzz-cases/*.ops) replays clean;
#   - the fuzzer catches a planted fault (flushes that do nothing);
#   - libFuzzer's driver runs clean, gets coverage back from its forked
#     runs, and catches the planted fault too, with a replay that works;
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

# libFuzzer drives the same runs (tests/host/fuzz_libfuzzer.c): its
# coverage must come back from the forked runs (p2m_set runs only there,
# so libFuzzer sees it covered only through the copy), and it must find
# the planted fault and print a replay file that fails again with the
# fault and passes without it.
cov=$top/build/fuzz-p2m-cov
lf=$(mktemp -d /tmp/pvmm-fuzz-cov.XXXXXX)
trap 'rm -rf "$lf"' EXIT
lf_args=(-seed=1 -max_len=4096 -len_control=0 -artifact_prefix="$lf/")
mkdir -p "$lf/corpus" "$lf/corpus2"
if ! out=$("$cov" "${lf_args[@]}" -runs=100 -print_coverage=1 \
           "$lf/corpus" 2>&1); then
    fail fuzz.libfuzzer_runs_clean "$(echo "$out" | grep -m1 -E 'fuzz|ERROR')"
elif ! grep -q '^COVERED_FUNC: .* p2m_set /' <<<"$out"; then
    fail fuzz.libfuzzer_runs_clean \
        "p2m_set not covered in 100 runs: the children's coverage is lost"
else
    pass fuzz.libfuzzer_runs_clean
    echo "         $(ls "$lf/corpus" | wc -l) inputs kept from 100 runs"
fi
out=$(FUZZ_SABOTAGE_FLUSH=1 "$cov" "${lf_args[@]}" -max_total_time=120 \
      "$lf/corpus2" 2>&1)
awk '/in the replay format:/ { on = 1; next }
     on && /^(seed|layout|cluster|populate|release|identity|bad-identity|trim|suspend)( |$)/ { print; next }
     on { exit }' <<<"$out" > "$lf/found.ops"
if ! ls "$lf"/crash-* >/dev/null 2>&1 || ! grep -q '^layout' "$lf/found.ops"; then
    fail fuzz.libfuzzer_finds_a_stale_translation \
        "no crash input or no replay in 120 s"
elif "$fuzz" --sabotage-flush --replay "$lf/found.ops" >/dev/null 2>&1; then
    fail fuzz.libfuzzer_finds_a_stale_translation \
        "its replay ($(grep -vc '^seed\|^layout\|^cluster' "$lf/found.ops") ops) passes with the fault"
elif ! "$fuzz" --replay "$lf/found.ops" >/dev/null 2>&1; then
    fail fuzz.libfuzzer_finds_a_stale_translation \
        "its replay fails without the fault"
else
    pass fuzz.libfuzzer_finds_a_stale_translation
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
