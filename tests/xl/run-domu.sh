#!/usr/bin/env bash
# Boots build/pvmm as a PV domU with the real toolstack (xl create): QEMU
# (TCG) runs Debian's Xen 4.17, whose dom0 is Debian's Linux with the
# initramfs from tests/xl/build-initramfs.sh; that dom0 creates each guest
# in turn, prints its console between markers and reboots, ending QEMU.
#
# Environment:
#   MEMORY, MAXMEM, CMDLINE   one guest, "pvmm": memory and maxmem in MiB
#                             (64, MAXMEM defaults to MEMORY) and its
#                             command line
#   MATRIX="name:mem:maxmem:cmdline;..."  several guests in one dom0 boot
#                             instead; an empty mem or maxmem takes the
#                             default as above; the cmdline is everything
#                             after the third colon, up to a '|':
#                             what follows it are actions on the held
#                             guest (tests/xl/job.sh: save, checkpoint,
#                             balloon:MIB, shutdown, reboot, dump)
#   TIMEOUT        seconds for the whole QEMU run (300)
#   GUEST_TIMEOUT  seconds one guest may run before dom0 destroys it (60)
#   ACTION_TIMEOUT seconds for each xl call of an action, and for the guest
#                  to answer it (300)
#   DOM0_MEM       dom0's memory in MiB (512), Xen's dom0_mem=
#   QEMU_MEM       QEMU's memory in MiB; by default DOM0_MEM + the sum of
#                  the guests' maxmem (they may balloon up to it) + 256
#                  for Xen, at least 1024 and at most half of the host's
#                  available memory
#   KERNEL         the guest kernel (default build/pvmm)
#   DOM0_CMDLINE   extra words for dom0 Linux's command line
#   XEN_EXTRA      extra words for Xen's command line (the last of the
#                  same option wins)
#   QUIET=1        print only the per-guest result lines and the summary
#   LOG            where the serial console is saved (default
#                  build/logs/domu-<time>-<pid>.log)
#
# Exits like tests/run-dom0.sh: 0 SUCCESS, 3 SKIP, 4 ERROR, 5 FAILURE,
# 6 no result line (crash or timeout).  With several guests, the worst of
# them, in the order SUCCESS < SKIP < ERROR < no result < FAILURE: a guest
# without a result line makes the run 6 unless another one says FAILURE.
# A problem of the harness itself (bad arguments, nothing to boot) is 4.
set -uo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
here=$top/tests/xl
kernel=${KERNEL:-$top/build/pvmm}
MEMORY=${MEMORY:-64}
MAXMEM=${MAXMEM:-$MEMORY}
CMDLINE=${CMDLINE:-}
MATRIX=${MATRIX:-}
TIMEOUT=${TIMEOUT:-300}
GUEST_TIMEOUT=${GUEST_TIMEOUT:-60}
ACTION_TIMEOUT=${ACTION_TIMEOUT:-300}
DOM0_MEM=${DOM0_MEM:-512}
DOM0_MEM=${DOM0_MEM%[Mm]}            # 512M and 512 both mean MiB
DOM0_CMDLINE=${DOM0_CMDLINE:-}
QUIET=${QUIET:-0}

say() { echo "run-domu: $*" >&2; }
die() { say "$*"; exit 4; }

is_num() { [[ $1 =~ ^[0-9]+$ ]] && [ "$1" -gt 0 ]; }
is_num "$TIMEOUT" || die "TIMEOUT must be a number of seconds"
is_num "$GUEST_TIMEOUT" || die "GUEST_TIMEOUT must be a number of seconds"
is_num "$ACTION_TIMEOUT" || die "ACTION_TIMEOUT must be a number of seconds"
is_num "$DOM0_MEM" || die "DOM0_MEM must be MiB, a number"

# ---- the guests ----------------------------------------------------------

names=() mems=() maxmems=() cmdlines=() actions=()
add_guest() {                   # add_guest NAME MEM MAXMEM CMDLINE[|ACTIONS]
    local n=$1 m=${2:-$MEMORY} x=${3:-} c=${4%%|*} a='' o w
    [[ $4 == *'|'* ]] && a=${4#*|}
    for w in $a; do
        [[ $w =~ ^(save|checkpoint|balloon:[0-9]+|shutdown|reboot|dump)$ ]] \
            || die "$n: unknown action '$w'"
    done
    [ -z "$a" ] || [[ " $c " == *" hold "* ]] || die "$n: actions need a held guest (hold)"
    [[ $n =~ ^[A-Za-z0-9_.-]+$ ]] || die "bad guest name '$n' (letters, digits, _ . -)"
    for o in "${names[@]}"; do
        [ "$o" != "$n" ] || die "guest name '$n' is used twice"
    done
    [ -n "$x" ] || { if [ -n "$2" ]; then x=$m; else x=$MAXMEM; fi; }
    is_num "$m" || die "$n: memory '$m' is not a number of MiB"
    is_num "$x" || die "$n: maxmem '$x' is not a number of MiB"
    [ "$x" -ge "$m" ] || die "$n: maxmem $x is below memory $m"
    [[ $c != *[\"\\]* && $c != *$'\n'* ]] \
        || die "$n: the command line may not hold a double quote, a backslash or a newline"
    names+=("$n") mems+=("$m") maxmems+=("$x") cmdlines+=("$c") actions+=("$a")
}
if [ -n "$MATRIX" ]; then
    IFS=';' read -r -a entries <<< "$MATRIX"
    for e in "${entries[@]}"; do
        [[ $e =~ ^[[:space:]]*$ ]] && continue
        IFS=: read -r n m x c <<< "$e"
        add_guest "$n" "$m" "$x" "${c:-}"
    done
else
    add_guest pvmm "$MEMORY" "$MAXMEM" "$CMDLINE"
fi
[ ${#names[@]} -gt 0 ] || die "MATRIX names no guest"

sum=0
# maxmem, not memory: a guest may balloon up to it (xl mem-set, job.sh).
for m in "${maxmems[@]}"; do sum=$(( sum + m )); done
if [ -z "${QEMU_MEM:-}" ]; then
    QEMU_MEM=$(( DOM0_MEM + sum + 256 ))
    [ "$QEMU_MEM" -ge 1024 ] || QEMU_MEM=1024
    # No more than half of what the host has free: a guest too big for
    # that is a test of xl create failing, not a reason to stall the host.
    avail=$(awk '/^MemAvailable:/ { print int($2 / 2048) }' /proc/meminfo 2>/dev/null)
    if [ -n "$avail" ] && [ "$avail" -ge 1024 ] && [ "$QEMU_MEM" -gt "$avail" ]; then
        QEMU_MEM=$avail
    fi
fi
is_num "$QEMU_MEM" || die "QEMU_MEM must be MiB, a number"

# ---- what to boot --------------------------------------------------------

[ -f "$kernel" ] || die "$kernel is missing: run make first"
command -v qemu-system-x86_64 >/dev/null || "$top/tests/deps.sh" qemu \
    || die "cannot install qemu"
xen=$("$top/tests/deps.sh" xen) || die "cannot get the Xen hypervisor"
vmlinuz='' initramfs='' busybox=''
while IFS='=' read -r k v; do
    case "$k" in
        vmlinuz) vmlinuz=$v ;; initramfs) initramfs=$v ;; busybox) busybox=$v ;;
    esac
done < <("$here/build-initramfs.sh")
[ -n "$vmlinuz" ] && [ -n "$initramfs" ] && [ -n "$busybox" ] \
    || die "build-initramfs.sh failed"
for p in "$xen" "$vmlinuz" "$initramfs"; do
    [[ $p != *' '* ]] || die "QEMU cannot take a path with a space: $p"
done

mkdir -p "$top/build/logs" "$top/build/xl"
stamp=$(date +%Y%m%d-%H%M%S)-$$
LOG=${LOG:-$top/build/logs/domu-$stamp.log}
: > "$LOG" || die "cannot write $LOG"
run=$(mktemp -d "$top/build/xl/run.XXXXXX") || die "cannot create a run directory"

# The dump-core checker, static so it runs in dom0 as it is.
checker=$top/build/xl/p2m-digest
if [ ! -x "$checker" ] || [ "$here/p2m-digest.c" -nt "$checker" ]; then
    gcc -static -O2 -Wall -Wextra -Werror -o "$checker" "$here/p2m-digest.c" \
        || die "cannot build the dump-core checker"
fi

# The per-run archive: /pvmm/pvmm, /pvmm/job.conf and the checker,
# appended to the cached initramfs (Linux unpacks concatenated archives
# in turn).
mkdir -p "$run/stage/pvmm"
cp "$kernel" "$run/stage/pvmm/pvmm" || die "cannot copy $kernel"
cp "$checker" "$run/stage/pvmm/p2m-digest" || die "cannot copy $checker"
{
    echo "# written by tests/xl/run-domu.sh"
    echo "GUEST_TIMEOUT=$GUEST_TIMEOUT"
    echo "ACTION_TIMEOUT=$ACTION_TIMEOUT"
    for i in "${!names[@]}"; do
        [ -z "${actions[$i]}" ] || echo "ACTIONS=${actions[$i]}"
        echo "${names[$i]} ${mems[$i]} ${maxmems[$i]} ${cmdlines[$i]}"
    done
} > "$run/stage/pvmm/job.conf"
(cd "$run/stage" && printf '%s\n' pvmm pvmm/pvmm pvmm/job.conf pvmm/p2m-digest \
    | "$busybox" cpio -o -H newc 2>/dev/null) | gzip -n > "$run/run.cpio.gz" \
    || die "cannot write the per-run archive"
cat "$initramfs" "$run/run.cpio.gz" > "$run/initrd.img" || die "cannot write $run/initrd.img"

# ---- boot ----------------------------------------------------------------

# QEMU splits -initrd at commas; a literal comma is written twice.
dom0_args="console=hvc0 quiet panic=1 pvmm.svc_timeout=60${DOM0_CMDLINE:+ $DOM0_CMDLINE}"
modules="${vmlinuz//,/,,} ${dom0_args//,/,,},${run//,/,,}/initrd.img"
xen_args="console=com1 com1=115200,8n1 dom0_mem=${DOM0_MEM}M loglvl=all"
# smap=0: with SMAP on, this dom0 Linux takes a page fault on its own
# stack early in boot under QEMU's TCG.
xen_args+=" guest_loglvl=all bootscrub=0 smap=0${XEN_EXTRA:+ $XEN_EXTRA}"

if [ "$QUIET" != 1 ]; then
    say "${#names[@]} guest(s): ${names[*]}; QEMU ${QEMU_MEM} MiB, dom0 ${DOM0_MEM} MiB; log $LOG"
fi
# Why dom0 never said PVMM-XL-END, in one line: Xen's or Linux's panic
# message if there is one, else the console's last line; and QEMU's own
# last word if it is gone.
why_unfinished() {
    local clean panic last qerr
    clean=$(tr -d '\r' < "$LOG")
    panic=$(grep -A1 -E 'Panic on CPU' <<< "$clean" | tail -n 1)
    [ -n "$panic" ] || panic=$(grep -m1 -E 'Kernel panic|Out of memory|BUG:' <<< "$clean")
    last=$(grep -v -E '^[[:space:]]*$' <<< "$clean" | tail -n 1)
    qerr=$(grep -v -E '^[[:space:]]*$' "$LOG.qemu" 2>/dev/null | tail -n 1)
    printf '%s' "${panic:+panic: ${panic:0:200}; }last console line: ${last:0:200}"
    [ "$qemu_alive" = 1 ] || printf '; QEMU exited, saying: %s' "${qerr:-nothing}"
}

stop() {
    kill "$qemu_pid" 2>/dev/null && wait "$qemu_pid" 2>/dev/null
    # Waiting for the live view's pid waits for its whole pipeline, which
    # ends about 0.2 s after QEMU.
    [ -n "$tail_pid" ] && wait "$tail_pid" 2>/dev/null
    tail_pid=
}
cleanup() { stop; rm -rf "$run"; }
trap 'cleanup; exit 6' INT TERM

# Boots QEMU once and waits for dom0's PVMM-XL-END; sets ended,
# qemu_alive and elapsed, and leaves QEMU stopped.
boot_once() {
    start=$(date +%s.%N)
    qemu-system-x86_64 -accel tcg -cpu max -m "$QEMU_MEM" -smp 2 \
        -no-reboot -display none -monitor none -parallel none \
        -serial "file:$LOG" \
        -kernel "$xen" -append "$xen_args" -initrd "$modules" \
        </dev/null >"$LOG.qemu" 2>&1 &
    qemu_pid=$!

    # The live view: dom0's progress lines and each guest's section, without
    # Xen's own lines.  tail ends by itself once QEMU is gone (--pid).
    tail_pid=
    if [ "$QUIET" != 1 ]; then
        tail -n +1 -s 0.2 --pid="$qemu_pid" -F "$LOG" 2>/dev/null | awk '
            { sub(/\r+$/, "") }
            /PVMM-GUEST-BEGIN |PVMM-DIAG-BEGIN / { inside = 1 }
            inside && !/^\(XEN\)/ { print; fflush() }
            /PVMM-GUEST-END |PVMM-DIAG-END / { inside = 0; next }
            !inside && /pvmm-dom0: |PVMM-GUEST-START |PVMM-XL-END / { print; fflush() }
        ' &
        tail_pid=$!
    fi

    ended=0
    deadline=$(( $(date +%s) + TIMEOUT ))
    while :; do
        if grep -q 'PVMM-XL-END' "$LOG" 2>/dev/null; then ended=1; break; fi
        kill -0 "$qemu_pid" 2>/dev/null || break
        [ "$(date +%s)" -ge "$deadline" ] && break
        sleep 0.2
    done
    if [ "$ended" = 1 ]; then
        # dom0 reboots next, which ends QEMU; give it a bounded while.
        grace=$(( $(date +%s) + 15 ))
        while kill -0 "$qemu_pid" 2>/dev/null && [ "$(date +%s)" -lt "$grace" ]; do
            sleep 0.2
        done
    fi
    qemu_alive=0
    kill -0 "$qemu_pid" 2>/dev/null && qemu_alive=1
    elapsed=$(echo "$(date +%s.%N) - $start" | bc 2>/dev/null || echo 0)
    stop
}

boot_once
if [ "$ended" = 0 ] && [ "$qemu_alive" = 0 ] && ! grep -q 'PVMM-GUEST-START ' "$LOG"; then
    # Dom0 died before it created any guest: nothing of pvmm's ran.  Say
    # why, keep that log, and boot once more, so one early crash of dom0
    # under TCG is not taken for a result.
    printf 'run-domu: dom0 died before any guest, after %.1f s (%s); booting it once more, the first log kept as %s.first\n' \
        "$elapsed" "$(why_unfinished)" "$LOG"
    mv "$LOG" "$LOG.first"; mv "$LOG.qemu" "$LOG.qemu.first" 2>/dev/null
    : > "$LOG"
    boot_once
fi
cleanup
trap - INT TERM

# ---- results -------------------------------------------------------------

clean=$(tr -d '\r' < "$LOG")

# guest_part NAME FROM TO: the lines after the marker "FROM NAME" and
# before "TO NAME"; Xen's lines are left out unless XEN=1.
guest_part() {
    awk -v name="$1" -v from="$2 " -v to="$3 " -v xen="${4:-0}" '
        function marked(m,   p, rest) {
            p = index($0, m)
            if (!p) return 0
            rest = substr($0, p + length(m))
            sub(/ .*/, "", rest)
            return rest == name
        }
        marked(to) { inside = 0 }
        inside && (xen || !/^\(XEN\)/) { print }
        marked(from) { inside = 1 }
    ' <<< "$clean"
}

rank_of() {
    case "$1" in
        SUCCESS) echo 0 ;; SKIP) echo 1 ;; ERROR) echo 2 ;; FAILURE) echo 4 ;;
        *) echo 3 ;;
    esac
}
# A held guest must have been dumped, with matching digests.
check_dump() {                  # check_dump NAME CMDLINE: 0 ok, 1 bad, 2 none
    local dump
    dump=$(grep -E "^PVMM-DUMPCORE $1 " <<< "$clean" | tail -n 1)
    case " $2 " in *" hold "*) ;; *) return 2 ;; esac
    echo "run-domu: $1: dump-core: ${dump:-no PVMM-DUMPCORE line from dom0}"
    [[ $dump == *match=yes ]]
}

# A guest with maxmem above memory that ballooned up (BALLOON-AT-MAX):
# dom0's `xl list` must have seen it above halfway to maxmem.
check_memory() {                # check_memory NAME MEM MAXMEM CONSOLE: 0/1/2
    local seen max
    [ "$3" -gt "$2" ] || return 2
    if ! grep -q '^BALLOON-AT-MAX' <<< "$4"; then
        echo "run-domu: $1: maxmem $3 > memory $2, but it never ballooned up"
        return 1
    fi
    seen=$(grep -E "^PVMM-MEMORY $1 " <<< "$clean" | tail -n 1)
    max=${seen##*max=}
    echo "run-domu: $1: xl list saw ${seen#PVMM-MEMORY $1 } MiB (memory $2, maxmem $3)"
    [[ $max =~ ^[0-9]+$ ]] && [ "$max" -gt $(( ($2 + $3) / 2 )) ]
}

# A guest with actions: every action ok, and one "resumed" line per save
# or checkpoint, in order, each with audit=ok memory=ok, the right
# new_domain, and every vCPU back.  Prints a line per action; 0 ok, 1 bad, 2 no actions.
check_actions() {               # check_actions NAME ACTIONS CONSOLE
    local n=$1 w k=0 bad=0 line resumed want
    local -A times=()
    [ -n "$2" ] || return 2
    for w in $2; do
        times[$w]=$(( ${times[$w]:-0} + 1 ))
        line=$(grep -E "^PVMM-ACTION $n $w " <<< "$clean" | sed -n "${times[$w]}p")
        echo "run-domu: $n: ${line:-PVMM-ACTION $n $w: never ran}"
        [[ $line == *" $w ok"* ]] || bad=1
        case $w in save|checkpoint) ;; *) continue ;; esac
        k=$((k + 1))
        want=yes; [ "$w" = checkpoint ] && want=no
        resumed=$(tr -d '\r' <<< "$3" | grep -E "^pvmm: resumed n=$k " | head -n 1)
        echo "run-domu: $n: ${resumed:-no \"pvmm: resumed n=$k\" line}"
        [[ $resumed == *" new_domain=$want audit=ok memory=ok "* ]] || bad=1
        # Every vCPU answers a call after the resume (vcpus=answered/all).
        [[ $resumed =~ \ vcpus=([0-9]+)/([0-9]+) ]] &&
            [ "${BASH_REMATCH[1]}" != "${BASH_REMATCH[2]}" ] && bad=1
    done
    # The one line tests/junit.py reads for this check.
    if [ "$bad" = 0 ]; then
        echo "run-domu: $n: actions: ok ($2)"
    else
        echo "run-domu: $n: actions: FAIL ($2; see the lines above)"
    fi
    return $bad
}

worst=0 passed=0 failed=0 skipped=0
for i in "${!names[@]}"; do
    n=${names[$i]} failed_before=$failed
    console=$(guest_part "$n" PVMM-GUEST-BEGIN PVMM-GUEST-END)
    endline=$(grep -E "PVMM-GUEST-END $n rc=" <<< "$clean" | tail -n 1)
    result=$(sed -n 's/^.*Test result: \([A-Z]*\).*$/\1/p' <<< "$console" | tail -n 1)
    r=$(rank_of "$result")
    [ "$r" -gt "$worst" ] && worst=$r
    if [ -n "$result" ]; then
        echo "run-domu: $n: Test result: $result"
    else
        how=${endline#*PVMM-GUEST-END "$n" }
        [ -n "$endline" ] || how="never reported back by dom0"
        echo "run-domu: $n: Test result: NONE (no result line; $how)"
    fi
    # Its failed tests, even when QUIET: the step's summary names them.
    tr -d '\r' <<< "$console" | grep -E '^\[ FAIL \]' | head -n 20 |
        sed "s/^/run-domu: $n: /"
    # One result line, nothing alarming after it, and the end it asked for.
    want=poweroff
    case " ${cmdlines[$i]} " in *" hold "*) want=held ;; esac
    case " ${actions[$i]} " in
        *" shutdown "*) want=poweroff ;; *" reboot "*) want=reboot ;;
    esac
    reason=$(sed -n 's/.* reason=\([a-z-]*\).*/\1/p' <<< "$endline")
    nres=$(grep -c 'Test result: ' <<< "$console")
    after=$(awk '/Test result: /{n++; next} n' <<< "$console" | grep -E '^PANIC:' | head -n 1)
    if [ -n "$result" ] && { [ "$reason" != "$want" ] || [ "$nres" -ne 1 ] || [ -n "$after" ]; }; then
        echo "run-domu: $n: end: reason=${reason:-none} (want $want), $nres result line(s)${after:+, then $after}"
        failed=$((failed + 1))
        worst=4
    fi
    counts=$(tr -d '\r' <<< "$console" | grep -E '^[0-9]+ passed, [0-9]+ failed, [0-9]+ skipped$' | tail -n 1)
    if [ -n "$counts" ]; then
        set -- $counts
    else
        # It crashed or was cut off: count what it printed, the test it
        # died in as failed (tests/count-results.awk).
        set -- $(awk -f "$top/tests/count-results.awk" <<< "$console")
        set -- "${1:-0}" - "${2:-0}" - "${3:-0}"
    fi
    passed=$((passed + $1)) failed=$((failed + $3)) skipped=$((skipped + $5))
    if [ -z "${actions[$i]}" ] || [[ " ${actions[$i]} " == *" dump "* ]]; then
        check_dump "$n" "${cmdlines[$i]}"
    else
        (exit 2)                # its actions say what happened to it
    fi
    case $? in
        0) passed=$((passed + 1)) ;;
        1) failed=$((failed + 1)); worst=4 ;;
    esac
    check_actions "$n" "${actions[$i]}" "$console"
    case $? in
        0) passed=$((passed + 1)) ;;
        1) failed=$((failed + 1)); worst=4 ;;
    esac
    if [ -z "${actions[$i]}" ]; then
        check_memory "$n" "${mems[$i]}" "${maxmems[$i]}" "$console"
    else
        (exit 2)                # ballooned by its actions instead
    fi
    case $? in
        0) passed=$((passed + 1)) ;;
        1) failed=$((failed + 1)); worst=4 ;;
    esac
    # A guest that ended in ERROR or without a result line, with nothing
    # above counted as failed, is one failure (as tests/junit.py has it).
    case "$result" in
        SUCCESS|SKIP|FAILURE) ;;
        *) [ "$failed" -gt "$failed_before" ] || failed=$((failed + 1)) ;;
    esac
    if [ "$QUIET" != 1 ] && { [ -z "$result" ] || [ "$result" = FAILURE ] || [ "$result" = ERROR ]; } \
       && grep -q "PVMM-GUEST-START $n " <<< "$clean"; then
        xenlines=$(guest_part "$n" PVMM-GUEST-START PVMM-GUEST-BEGIN 1 | grep -E '^\((XEN|d[0-9]+)\)')
        if [ -n "$xenlines" ]; then
            echo "run-domu: $n: Xen while it ran:"
            sed 's/^/    /' <<< "$xenlines"
        fi
    fi
done

if ! grep -q 'PVMM-XL-END' <<< "$clean"; then
    # On stdout, one line a step summary picks up (tests/run-all.sh).
    if [ "$qemu_alive" = 1 ]; then
        printf 'run-domu: dom0 did not finish within %ss (%s)\n' "$TIMEOUT" "$(why_unfinished)"
    else
        printf 'run-domu: dom0 did not finish: QEMU ended after %.1f s (%s)\n' "$elapsed" "$(why_unfinished)"
        sed 's/^/run-domu: qemu: /' "$LOG.qemu" >&2
    fi
    say "the console's last lines (log: $LOG):"
    tail -n 25 <<< "$clean" | sed 's/^/    /' >&2
fi

case "$worst" in
    0) result=SUCCESS code=0 ;;
    1) result=SKIP code=3 ;;
    2) result=ERROR code=4 ;;
    3) result=NONE code=6 ;;
    *) result=FAILURE code=5 ;;
esac
printf 'run-domu: Test result: %s after %.1f s (%d guest(s), log: %s)\n' \
    "$result" "$elapsed" "${#names[@]}" "$LOG" >&2
# Every guest's tests and every dump-core check, in one closing line.
echo "domU: $passed passed, $failed failed, $skipped skipped"
exit "$code"
