#!/usr/bin/env bash
# Boots build/pvmm as dom0 under Debian's Xen 4.17 in QEMU (TCG), streams
# the serial console, and exits like XTF's xtf-runner:
#   0 SUCCESS, 3 SKIP, 4 ERROR, 5 FAILURE, 6 no result line (crash/timeout)
#
# Environment: CMDLINE (kernel command line), QEMU_MEM (MiB), DOM0_MEM
# (Xen's dom0_mem=), VCPUS (QEMU's -smp and Xen's dom0_max_vcpus=),
# TIMEOUT (seconds), QUIET=1 to not stream the log,
# LOG (where to save the console; default build/logs/dom0-<time>.log),
# GDB_SOCK (a path: QEMU starts paused, its gdbstub listening on that unix
# socket, for tests/run-gdb.sh).
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
kernel=$top/build/pvmm
CMDLINE=${CMDLINE:-}
QEMU_MEM=${QEMU_MEM:-512}
DOM0_MEM=${DOM0_MEM:-64M}
TIMEOUT=${TIMEOUT:-120}
VCPUS=${VCPUS:-1}
QUIET=${QUIET:-0}

die() { echo "run-dom0: $*" >&2; exit 4; }

[ -f "$kernel" ] || die "$kernel is missing: run make first"
[[ "$VCPUS" =~ ^[1-8]$ ]] || die "VCPUS=$VCPUS: give 1 to 8 (pvmm uses at most 8)"
command -v qemu-system-x86_64 >/dev/null || "$top/tests/deps.sh" qemu \
    || die "cannot install qemu"
xen=$("$top/tests/deps.sh" xen) || die "cannot get the Xen hypervisor"

mkdir -p "$top/build/logs"
LOG=${LOG:-$top/build/logs/dom0-$(date +%Y%m%d-%H%M%S)-$$.log}
: > "$LOG"

# QEMU splits -initrd at commas; a literal comma is written twice.
module="$kernel${CMDLINE:+ ${CMDLINE//,/,,}}"
xen_args="console=com1 com1=115200,8n1 dom0_mem=$DOM0_MEM loglvl=all"
xen_args+=" guest_loglvl=all bootscrub=0 noreboot=false"
xen_args+=" dom0_max_vcpus=$VCPUS"

gdb_args=()
[ -n "${GDB_SOCK:-}" ] && gdb_args=(-S -gdb "unix:$GDB_SOCK,server=on,wait=off")

start=$(date +%s.%N)
qemu-system-x86_64 -accel tcg -cpu max -m "$QEMU_MEM" -smp "$VCPUS" \
    -no-reboot -display none -monitor none -parallel none \
    -serial "file:$LOG" \
    -kernel "$xen" -append "$xen_args" -initrd "$module" "${gdb_args[@]}" \
    </dev/null >"$LOG.qemu" 2>&1 &
qemu_pid=$!

tail_pid=
if [ "$QUIET" != 1 ]; then
    # --pid: once QEMU is gone, tail reads what is left and ends, and tr
    # flushes at its end of input.  Killing the pipeline instead would
    # lose whatever tr still buffers when stdout is a file or a pipe.
    tail --pid="$qemu_pid" -s 0.1 -n +1 -F "$LOG" 2>/dev/null \
        | tr -d '\r' &
    tail_pid=$!
fi

stop() {
    local i
    kill "$qemu_pid" 2>/dev/null && wait "$qemu_pid" 2>/dev/null
    [ -n "$tail_pid" ] || return 0
    for ((i = 0; i < 100; i++)); do        # 10 s, then give up on it
        kill -0 "$tail_pid" 2>/dev/null || break
        sleep 0.1
    done
    kill "$tail_pid" 2>/dev/null
    wait "$tail_pid" 2>/dev/null
}
trap 'stop; exit 6' INT TERM

result=
deadline=$(( $(date +%s) + TIMEOUT ))
while :; do
    result=$(tr -d '\r' < "$LOG" | sed -n 's/^Test result: \([A-Z]*\)$/\1/p' | tail -n 1)
    if [ -n "$result" ]; then
        # After the result the kernel shuts down and Xen says so ("Hardware
        # Dom0 halted/crashed/shutdown"); wait for that (bounded: a held
        # guest never ends) so that anything printed after the result
        # line - a panic, a crash - is seen.
        for ((i = 0; i < 50; i++)); do
            kill -0 "$qemu_pid" 2>/dev/null || break
            grep -q '^(XEN) Hardware Dom0 ' "$LOG" && break
            sleep 0.1
        done
        sleep 0.1
        break
    fi
    kill -0 "$qemu_pid" 2>/dev/null || break
    [ "$(date +%s)" -ge "$deadline" ] && break
    sleep 0.2
done
elapsed=$(echo "$(date +%s.%N) - $start" | bc 2>/dev/null || echo "?")
qemu_alive=0
kill -0 "$qemu_pid" 2>/dev/null && qemu_alive=1
stop

if [ -z "$result" ]; then
    if [ "$qemu_alive" = 1 ]; then
        echo "run-dom0: no result line within ${TIMEOUT}s (log: $LOG)" >&2
    else
        echo "run-dom0: QEMU exited without a result line (log: $LOG)" >&2
        sed 's/^/run-dom0: qemu: /' "$LOG.qemu" >&2
    fi
    exit 6
fi

# One result line, and nothing after it that says the run went wrong.
text=$(tr -d '\r' < "$LOG")
nresults=$(grep -c '^Test result: ' <<< "$text")
after=$(awk '/^Test result: /{n++; next} n' <<< "$text" |
        grep -E '^PANIC:|Dom0 crashed|domain_crash|^\(XEN\) \*\*\*\* ' | head -n 1)
if [ "$nresults" -ne 1 ] || [ -n "$after" ]; then
    echo "run-dom0: the run said '$result', but then:" \
         "${after:-$nresults result lines} (log: $LOG)" >&2
    exit 4
fi

# The vCPUs the kernel counted against what Xen was told to give dom0.
vcpus_seen=$(sed -n 's/^pvmm: \([0-9]*\) vCPUs\{0,1\}$/\1/p' <<< "$text" | head -n 1)
if [ "${vcpus_seen:-none}" != "$VCPUS" ]; then
    echo "run-dom0: the kernel counted ${vcpus_seen:-no} vCPUs, Xen was" \
         "given dom0_max_vcpus=$VCPUS (log: $LOG)" >&2
    exit 5
fi

printf 'run-dom0: Test result: %s after %.1f s (log: %s)\n' "$result" "$elapsed" "$LOG" >&2
case "$result" in
    SUCCESS) exit 0 ;;
    SKIP) exit 3 ;;
    ERROR) exit 4 ;;
    FAILURE) exit 5 ;;
    *) echo "run-dom0: unknown result '$result'" >&2; exit 6 ;;
esac
