#!/usr/bin/env bash
# Boots build/pvmm as dom0 with QEMU paused before Xen runs and its
# gdbstub on a unix socket, and attaches gdb with the kernel's symbols and
# tests/gdb/pvmm.gdb.
#
#   run-gdb.sh            interactive: gdb's prompt; the console goes to the
#                         log file it names (tail -f it in another terminal)
#   run-gdb.sh --check    what make test runs: gdb in batch mode breaks at
#                         p2m_set, checks what it reads there
#                         (tests/gdb/check.py), detaches, and the run must
#                         still end in SUCCESS.  Prints [ PASS ]/[ FAIL ]
#                         lines and "N passed, N failed".
#
# Environment as for run-dom0.sh: CMDLINE, QEMU_MEM, DOM0_MEM, TIMEOUT
# (seconds for the whole run; in --check mode gdb gets the same bound).
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
mode=${1:-interactive}
TIMEOUT=${TIMEOUT:-3600}

die() { echo "run-gdb: $*" >&2; exit 4; }

case "$mode" in
    interactive|--check) ;;
    *) die "usage: $0 [--check]" ;;
esac
command -v gdb >/dev/null || die "gdb is missing: run make deps"
[ -f build/pvmm ] || die "build/pvmm is missing: run make first"

dir=$(mktemp -d /tmp/pvmm-gdb.XXXXXX) || die "cannot make a temporary directory"
sock=$dir/gdb.sock
mkdir -p build/logs
LOG=${LOG:-$top/build/logs/gdb-$(date +%Y%m%d-%H%M%S)-$$.log}

GDB_SOCK=$sock QUIET=1 LOG=$LOG TIMEOUT=$TIMEOUT tests/run-dom0.sh \
    2> "$dir/runner" &
runner=$!
cleanup() {
    kill "$runner" 2>/dev/null
    wait "$runner" 2>/dev/null
    rm -rf "$dir"
}
trap cleanup EXIT

# QEMU creates the socket before it starts; give it a few seconds.
for _ in $(seq 50); do
    [ -S "$sock" ] && break
    kill -0 "$runner" 2>/dev/null || break
    sleep 0.1
done
[ -S "$sock" ] || { cat "$dir/runner" >&2; die "QEMU's gdbstub did not come up"; }

gdb_common=(-q -nx -x tests/gdb/pvmm.gdb -ex "target remote $sock" build/pvmm)

if [ "$mode" = interactive ]; then
    echo "run-gdb: QEMU is paused before Xen; the console goes to $LOG"
    echo "run-gdb: try: break p2m_set, continue, bt, p pfn, pvmm-p2m pfn.pfn"
    gdb "${gdb_common[@]}"
    # Detached: the guest runs on to its result.  Killed: no result (6).
    wait "$runner"
    rc=$?
    cat "$dir/runner" >&2
    exit "$rc"
fi

# --check.  `break *p2m_set`: the entry instruction, where rdi still holds
# the argument (check.py compares the two).
out=$dir/gdb.out
timeout "$TIMEOUT" gdb -batch "${gdb_common[@]}" \
    -ex 'break *p2m_set' -ex continue \
    -ex 'source tests/gdb/check.py' \
    -ex delete -ex detach > "$out" 2>&1
gdb_rc=$?
grep -v '^\[ \(PASS\|FAIL\) \]' "$out" | sed 's/^/         /'
grep '^\[ \(PASS\|FAIL\) \]' "$out"
passed=$(grep -c '^\[ PASS \]' "$out")
failed=$(grep -c '^\[ FAIL \]' "$out")
if [ "$passed" -eq 0 ] && [ "$failed" -eq 0 ]; then
    echo "[ FAIL ] gdb.checks_ran: gdb exited $gdb_rc without running them"
    failed=1
fi

wait "$runner"
rc=$?
cat "$dir/runner"
if [ "$rc" -eq 0 ]; then
    echo "[ PASS ] gdb.run_ends_in_success_after_detach"
    passed=$((passed + 1))
else
    echo "[ FAIL ] gdb.run_ends_in_success_after_detach: the run exited $rc (log: $LOG)"
    failed=$((failed + 1))
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
