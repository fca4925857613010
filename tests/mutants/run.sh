#!/usr/bin/env bash
# make mutants: applies each one-line mutation of mm/ listed in
# tests/mutants/mutations.txt to a copy of the tree, builds it, boots it
# with the 64 MiB dom0 `audit` run (what `make check` boots), and says
# whether the run noticed (any exit but 0: killed) or not (survived).
# Two at a time.  The survivors are the to-do list: each is a bug the
# suite would let through.
#
#   tests/mutants/run.sh [PATTERN]   only the mutations whose line
#                                    contains PATTERN (grep -F)
#   tests/mutants/run.sh --validate  only check that every line is well
#                                    formed and matches its file once (no
#                                    boots; make test runs this, so a
#                                    refactor cannot silently orphan one)
# Environment: MUTANT_CMDLINE (default "audit"), MUTANT_DOM0_MEM (64M) and
# MUTANT_QEMU_MEM (4608, as make check) for another layout, TIMEOUT (per boot, 300),
# MUTANT_LIST (another list of mutations, same format), MUTANT_MATRIX (boot
# each mutant as domUs under xl instead, tests/xl/run-domu.sh's MATRIX:
# tests/mutants/suspend.txt needs xl save and restore, so a domU),
# MUTANT_FUZZ=1 (no boots: only the mutations of the portable p2m core,
# the `core` files of mm/LAYERS, each run under the host fuzzer,
# build/fuzz-p2m, seeds MUTANT_FUZZ_SEEDS, default make test's 1-560;
# make mutants-fuzz).
#
# Prints one line per mutation and, last, "mutants: killed K of N".
# Exits 0 if every mutation was killed, 1 if some survived, 4 if a
# mutation line is malformed or does not match its file exactly once.
set -uo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
list=${MUTANT_LIST:-$top/tests/mutants/mutations.txt}
pattern=${1:-} validate=0
[ "$pattern" = --validate ] && pattern= validate=1
export MUTANT_CMDLINE=${MUTANT_CMDLINE:-audit} TIMEOUT=${TIMEOUT:-300}
export MUTANT_DOM0_MEM=${MUTANT_DOM0_MEM:-64M} MUTANT_QEMU_MEM=${MUTANT_QEMU_MEM:-4608}
work=$(mktemp -d /tmp/pvmm-mutants.XXXXXX)
trap 'rm -rf "$work"' EXIT

die() { echo "mutants: $*" >&2; exit 4; }

# Fields of a mutation line into FILE ORIG REPL WHAT.
split() {
    local rest=$1
    FILE=${rest%% @@ *}; rest=${rest#* @@ }
    ORIG=${rest%% @@ *}; rest=${rest#* @@ }
    REPL=${rest%% @@ *}; WHAT=${rest#* @@ }
}

mutants=()
while IFS= read -r line; do
    [[ -z $line || $line == \#* ]] && continue
    [ -n "$pattern" ] && [[ $line != *"$pattern"* ]] && continue
    split "$line"
    [ -n "${MUTANT_FUZZ:-}" ] && [ "$validate" -eq 0 ] &&
        ! grep -qx "core $FILE" "$top/mm/LAYERS" && continue
    [ -n "$FILE" ] && [ -n "$ORIG" ] && [ -n "$WHAT" ] ||
        die "malformed line: $line"
    n=$(grep -cF -- "$ORIG" "$top/$FILE" 2>/dev/null)
    [ "$n" = 1 ] || die "'$ORIG' is on $n lines of $FILE (must be 1)"
    mutants+=("$line")
done < "$list"
[ ${#mutants[@]} -gt 0 ] || die "no mutation selected"
if [ "$validate" -eq 1 ]; then
    echo "[ PASS ] mutants.list_matches_the_code: ${#mutants[@]} mutations," \
         "each matching its file once"
    echo "1 passed, 0 failed"
    exit 0
fi

# A copy of the working tree (not just what is committed), without build/.
tar -C "$top" --exclude=./build --exclude=./.git -cf "$work/tree.tar" .

# Boots TREE's build/pvmm as the mutants are booted; the runner's exit.
boot() {    # boot TREE LOG
    if [ -n "${MUTANT_FUZZ:-}" ]; then
        # make test's fixed seeds: does that run notice?
        "$1/build/fuzz-p2m" --jobs 1 --no-shrink \
            --seeds "${MUTANT_FUZZ_SEEDS:-1-560}" --ops 2000 > "$2" 2>&1
    elif [ -n "${MUTANT_MATRIX:-}" ]; then
        # Linux is dom0 here: its memory, not the pvmm dom0's DOM0_MEM.
        env -u QEMU_MEM -u CMDLINE MATRIX="$MUTANT_MATRIX" KERNEL="$1/build/pvmm" \
            DOM0_MEM=${MUTANT_DOMU_DOM0_MEM:-512} QUIET=1 LOG=$2 \
            GUEST_TIMEOUT=240 TIMEOUT=900 \
            "$top/tests/xl/run-domu.sh" > "$2.result" 2>&1
    else
        CMDLINE=$MUTANT_CMDLINE DOM0_MEM=$MUTANT_DOM0_MEM \
            QEMU_MEM=$MUTANT_QEMU_MEM QUIET=1 LOG=$2 \
            "$1/tests/run-dom0.sh" > "$2.result" 2>&1
    fi
}

one() {     # one INDEX LINE: prints the verdict line
    local i=$1 dir=$work/m$1 rc out
    split "$2"
    mkdir -p "$dir" && tar -C "$dir" -xf "$work/tree.tar"
    O=$ORIG R=$REPL awk '{
        i = index($0, ENVIRON["O"])
        if (i) $0 = substr($0, 1, i - 1) ENVIRON["R"] \
                    substr($0, i + length(ENVIRON["O"]))
        print }' "$top/$FILE" > "$dir/$FILE"
    out=$top/build/logs/mutant-$i.log
    if ! make -C "$dir" "$target" > "$out.build" 2>&1; then
        echo "NOBUILD  $i $FILE: $WHAT (see $out.build)"
        rm -rf "$dir"
        return
    fi
    boot "$dir" "$out"
    rc=$?
    if [ "$rc" -eq 0 ]; then
        echo "SURVIVED $i $FILE: $WHAT"
    else
        echo "KILLED   $i $FILE: $WHAT (exit $rc)"
    fi
    rm -rf "$dir"
}
# What a mutant is built into: the kernel, or the host fuzzer.
target=build/pvmm
[ -n "${MUTANT_FUZZ:-}" ] && target=build/fuzz-p2m
export -f one split boot
export work top target

mkdir -p "$top/build/logs"
start=$(date +%s)
# A kill means something only if the unmutated kernel passes the same run.
make -C "$top" "$target" > /dev/null 2>&1 || die "the unmutated tree does not build"
if ! boot "$top" "$top/build/logs/mutant-baseline.log"; then
    echo "mutants: the unmutated kernel fails this run (build/logs/mutant-baseline.log*): fix that first" >&2
    exit 4
fi
echo "mutants: the unmutated kernel passes (baseline: $(( $(date +%s) - start )) s)"
results=$(for i in "${!mutants[@]}"; do printf '%s\0%s\0' "$i" "${mutants[i]}"; done |
          xargs -0 -n 2 -P 2 bash -c 'one "$0" "$1"' | tee /dev/stderr)
killed=$(grep -c '^KILLED' <<< "$results")
survived=$(grep -c '^SURVIVED' <<< "$results")
nobuild=$(grep -c '^NOBUILD' <<< "$results")
echo "$results" | sort -k2,2n
echo "mutants: $(( $(date +%s) - start )) s"
[ "$nobuild" -eq 0 ] || echo "mutants: $nobuild did not build (not counted)"
grep '^SURVIVED' <<< "$results" | sed 's/^SURVIVED /survivor: /'
echo "mutants: killed $killed of $((killed + survived))"
[ "$survived" -eq 0 ]
