#!/bin/sh
# Runs the guests of a job, one after the other, in the test dom0
# (busybox sh).  Usage: job.sh JOB_CONF KERNEL
#
# JOB_CONF holds one guest a line,
#     NAME MEMORY_MIB MAXMEM_MIB [GUEST COMMAND LINE...]
# and settings as KEY=VALUE lines: GUEST_TIMEOUT (seconds a guest may run
# once xl create has returned, default 60), CREATE_TIMEOUT (seconds for
# xl create, default 120) and
# DIAG=always (print diagnostics for every guest, not only failed ones).
# Lines starting with # are comments.
#
# For each guest it writes /run/pvmm/NAME.cfg from pvmm.cfg.in, runs
# `xl create`, waits for the domain to go away and prints
#     PVMM-GUEST-START NAME
#     PVMM-GUEST-BEGIN NAME
#     ... the guest's console, as xenconsoled logged it ...
#     PVMM-GUEST-END NAME rc=N reason=R domid=D secs=S
#     [PVMM-DIAG-BEGIN NAME ... PVMM-DIAG-END NAME]
# A guest with maxmem above memory gets `xl mem-set NAME MAXMEM` right
# after it is created.  While a guest runs, `xl list` is sampled; before its end marker:
#     PVMM-MEMORY NAME min=MIB max=MIB
# A guest whose command line has `hold` prints its p2m digest and stays:
# job.sh then runs `xl dump-core` on it, computes the digest of the core's
# .xen_p2m section with /pvmm/p2m-digest, prints
#     PVMM-DUMPCORE NAME guest="P2M-DIGEST ..." core="P2M-DIGEST ..." match=yes|no
# and destroys it; reason is then "held", and rc 1 if the digests differ.
#
# A line ACTIONS=WORD... applies to the next guest only, which must be
# held: once it prints PVMM-READY, the actions run in order (docs/suspend.md):
#     save          xl save, then xl restore of the file; the guest must
#                   print "pvmm: resumed n=<k>" (k counts its resumes)
#     checkpoint    xl save -c (the guest goes on); "resumed n=<k>" too
#     balloon:MIB   xl mem-set; the guest follows and prints PVMM-READY
#     shutdown      xl shutdown: it must go away with reason poweroff
#     reboot        xl reboot (on_reboot is destroy): reason reboot
#     dump          the dump-core check above
# Each prints one line,
#     PVMM-ACTION NAME WORD ok|FAIL [k=v...]
# with the save and restore times (ms) and the save file's size (KiB).
# rc is 0 when the domain was created and went away by itself, the exit
# status of xl create when that failed, 124 when the guest ran out of time
# (it is then destroyed).  reason is the shutdown reason that xl's monitor
# logged (poweroff, reboot, suspend, crash, watchdog, soft_reset), or
# "timeout", "create-failed", "unknown".
#
# Exits 0 when every guest had rc=0, else 1.  Every wait is bounded by a
# deadline read from /proc/uptime; so is each xl call (bounded, lib.sh).

job=$1
kernel=$2
template=/etc/pvmm/pvmm.cfg.in
conlog_dir=/var/log/xen/console
GUEST_TIMEOUT=60
CREATE_TIMEOUT=120
DIAG=fail
ACTIONS=
ACTION_TIMEOUT=120

. /etc/pvmm/lib.sh

# xl with a bound on how long one call may take.
xlt() { bounded 30 xl "$@"; }

reason_name() {
    case "$1" in
        0) echo poweroff ;; 1) echo reboot ;; 2) echo suspend ;;
        3) echo crash ;; 4) echo watchdog ;; 5) echo soft_reset ;;
        *) echo "code-$1" ;;
    esac
}

# Prints a file, ending it with a newline if it lacks one.
show() {
    [ -s "$1" ] || return 0
    cat "$1"
    [ -z "$(tail -c 1 "$1")" ] || echo
}

render() {                      # render NAME MEMORY MAXMEM EXTRA > cfg
    local line vcpus
    # The guest's own vcpus=N word (pvmm checks the count against it).
    vcpus=$(echo " $4 " | sed -n 's/.* vcpus=\([1-9][0-9]*\) .*/\1/p')
    [ -n "$vcpus" ] || vcpus=1
    while IFS= read -r line; do
        line=${line//@NAME@/$1}
        line=${line//@KERNEL@/$kernel}
        line=${line//@MEMORY@/$2}
        line=${line//@MAXMEM@/$3}
        line=${line//@EXTRA@/$4}
        line=${line//@VCPUS@/$vcpus}
        printf '%s\n' "$line"
    done < "$template"
}

diag() {                        # diag NAME DOMID
    local name="$1" domid="$2"
    echo "PVMM-DIAG-BEGIN $name"
    echo "--- xl create output"
    show "/run/pvmm/$name.create"
    echo "--- /var/log/xen/xl-$name.log"
    show "/var/log/xen/xl-$name.log"
    echo "--- xenconsoled log: $(cat "$conlog_dir/guest-$name.log" 2>/dev/null | wc -c) bytes"
    ls -l "$conlog_dir"
    [ -s "/run/pvmm/$name.live" ] && { echo "--- while it ran"; show "/run/pvmm/$name.live"; }
    echo "--- xl list"
    xlt list
    echo "--- xl dmesg (last 40 lines)"
    xlt dmesg > /run/pvmm/dmesg 2>&1
    echo "(xl dmesg: exit $?, $(wc -l < /run/pvmm/dmesg) lines; each shown after \"| \")"
    tail -n 40 /run/pvmm/dmesg | sed 's/^/| /'
    echo "PVMM-DIAG-END $name"
}

# Records what can be seen of a live domain that is about to be destroyed.
capture_live() {                # capture_live NAME DOMID
    {
        echo "xl list -v $1:"
        xlt list -v "$1"
        echo "xenstore /local/domain/$2/console:"
        bounded 10 xenstore-ls -f "/local/domain/$2/console"
        echo "vcpu 0 context (xenctx):"
        bounded 10 xenctx "$2" 0
    } > "/run/pvmm/$1.live" 2>&1
}

# dump-core of a held guest, checked against the digest it printed.
check_held() {                  # check_held NAME CONLOG; returns 0 on a match
    local name="$1" core="/run/pvmm/$1.core" guest core_digest
    guest=$(grep -a -o 'P2M-DIGEST populated=[0-9]* hash=[0-9a-f]*' "$2" | tail -n 1)
    bounded 120 xl dump-core "$name" "$core" > "/run/pvmm/$name.dump" 2>&1
    core_digest=$(bounded 60 /pvmm/p2m-digest "$core" 2>&1)
    rm -f "$core"
    xlt destroy "$name"
    if [ -n "$guest" ] && [ "$guest" = "$core_digest" ]; then
        echo "PVMM-DUMPCORE $name guest=\"$guest\" core=\"$core_digest\" match=yes"
        return 0
    fi
    echo "PVMM-DUMPCORE $name guest=\"$guest\" core=\"$core_digest\" match=no"
    show "/run/pvmm/$name.dump"
    return 1
}

# How many lines of file match the extended regular expression.
count_lines() {                 # count_lines FILE ERE
    local n
    n=$(grep -a -c -E "$2" "$1" 2>/dev/null)
    echo "${n:-0}"
}

# Waits until at least N lines of FILE match ERE; false after SECS.
wait_lines() {                  # wait_lines FILE ERE N SECS
    local deadline=$(( $(now_cs) + $4 * 100 ))
    while [ "$(count_lines "$1" "$2")" -lt "$3" ]; do
        [ "$(now_cs)" -lt "$deadline" ] || return 1
        sleep 0.3
    done
}

# xl restore said it failed: true (and a note) if only xl's domain monitor
# died, of a segfault this initramfs's xl shows now and then (at xl
# create too), after libxc had said the restore was successful and with
# the domain there: the guest's own "resumed" line is still checked.
restore_failed() {              # restore_failed NAME OUT
    grep -q 'Restore successful' "$2" &&
        grep -q 'domain monitoring daemonizing child .*Segmentation fault' "$2" &&
        xl domid "$1" > /dev/null 2>&1 || return 1
    echo "    job: xl restore's exit status ignored: only its domain monitor died" >> "$2"
    extra_note="xl_monitor=segv"
}

# One action on a held guest (see the top); prints its PVMM-ACTION line.
act() {                         # act NAME CONLOG RESUMES WORD
    local name="$1" conlog="$2" k="$3" word="$4" out="/run/pvmm/$1.act"
    local file="/run/pvmm/$1.save" ready t0 t1 t2 kib rc=0 extra='' extra_note=''
    ready=$(count_lines "$conlog" '^PVMM-READY')
    : > "$out"
    case "$word" in
    save|checkpoint)
        t0=$(now_cs)
        if [ "$word" = save ]; then
            bounded "$ACTION_TIMEOUT" xl save "$name" "$file" >> "$out" 2>&1 || rc=1
        else
            bounded "$ACTION_TIMEOUT" xl save -c "$name" "$file" >> "$out" 2>&1 || rc=1
        fi
        t1=$(now_cs)
        kib=$(( $(stat -c %s "$file" 2>/dev/null || echo 0) / 1024 ))
        if [ "$word" = save ] && [ "$rc" = 0 ]; then
            bounded "$ACTION_TIMEOUT" xl restore "$file" >> "$out" 2>&1 ||
                restore_failed "$name" "$out" || rc=1
        fi
        t2=$(now_cs)
        rm -f "$file"
        k=$((k + 1))
        [ "$rc" = 0 ] && ! wait_lines "$conlog" "pvmm: resumed n=$k " 1 "$ACTION_TIMEOUT" && rc=2
        extra="n=$k save_ms=$(( (t1 - t0) * 10 )) restore_ms=$(( (t2 - t1) * 10 )) file_kib=$kib${extra_note:+ $extra_note}" ;;
    balloon:*)
        bounded 30 xl mem-set "$name" "${word#balloon:}m" >> "$out" 2>&1 || rc=1 ;;
    shutdown|reboot)
        bounded 30 xl "$word" "$name" >> "$out" 2>&1 || rc=1 ;;
    dump)
        check_held "$name" "$conlog" || rc=1 ;;
    *)
        echo "unknown action" >> "$out"; rc=1 ;;
    esac
    # Save, checkpoint and balloon end with the guest ready again.
    case "$word" in
    save|checkpoint|balloon:*)
        [ "$rc" = 0 ] && ! wait_lines "$conlog" '^PVMM-READY' $((ready + 1)) "$ACTION_TIMEOUT" && rc=3 ;;
    esac
    if [ "$rc" = 0 ]; then
        echo "PVMM-ACTION $name $word ok $extra"
    else
        echo "PVMM-ACTION $name $word FAIL step=$rc $extra"
        sed 's/^/    /' "$out"
    fi
    return "$rc"
}

# The actions of a held guest, in order; stops at the first failure.
run_actions() {                 # run_actions NAME CONLOG WORD...
    local name="$1" conlog="$2" k=0 word
    shift 2
    for word in "$@"; do
        act "$name" "$conlog" "$k" "$word" || return 1
        case "$word" in save|checkpoint) k=$((k + 1)) ;; esac
    done
}

# A domain that shut down and stays: after `xl save -c` xl's monitor has
# exited (it ends on the suspend), so nothing destroys the domain when it
# later powers off.  After 5 s in that state, takes the reason from
# `xl list -v`, sets `reason`, destroys the domain and returns true.
down_since=
unmonitored_end() {             # unmonitored_end NAME STATE
    local code
    case "$2" in *s*|*c*) ;; *) down_since=; return 1 ;; esac
    [ -n "$down_since" ] || down_since=$(now_cs)
    [ $(( $(now_cs) - down_since )) -ge 500 ] || return 1
    code=$(xlt list -v "$1" 2>/dev/null | sed -n 2p | awk '{ print $8 }')
    log "$1 shut down (reason code ${code:-?}) with no xl monitor left: destroying it"
    reason=$(reason_name "${code:-?}")
    down_since=
    xlt destroy "$1"
}

run_guest() {                   # run_guest NAME MEMORY MAXMEM EXTRA
    local name="$1" cfg="/run/pvmm/$1.cfg" conlog="$conlog_dir/guest-$1.log"
    local extra="$4"            # the loop below reuses the positional ones
    local mem_min='' mem_max=''  # MiB, as `xl list` showed it while it ran
    local rc=0 reason=unknown domid=- state='' line code t0 deadline gone=0 secs
    local actions="$ACTIONS" acted=0

    render "$@" > "$cfg"
    echo "PVMM-GUEST-START $name memory=$2 maxmem=$3 extra=\"$4\""
    t0=$(now_cs)
    bounded "$CREATE_TIMEOUT" xl create "$cfg" > "/run/pvmm/$name.create" 2>&1
    rc=$?
    # xl itself can die after the domain is built and its monitor started
    # (Debian's 4.17 xl once exited 139, SIGSEGV, with the guest running
    # its tests).  The guest is what is under test: follow it, and say so.
    if [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] &&
       xlt domid "$name" >/dev/null 2>&1; then
        log "xl create of $name exited $rc after creating the domain: following the domain"
        rc=0
    fi
    if [ "$rc" -ne 0 ]; then
        reason=create-failed
        [ "$rc" -eq 124 ] && log "xl create of $name took over ${CREATE_TIMEOUT}s"
        # Whatever xl left half-built must not hold memory for the next one.
        xlt destroy "$name" >/dev/null 2>&1
    else
        # maxmem is only the ceiling: Xen's limit is the target (+1 MiB).
        # Raise the target, as an admin would, so the guest can balloon up.
        if [ "$3" -gt "$2" ]; then
            xlt mem-set "$name" "${3}m" > "/run/pvmm/$name.memset" 2>&1 \
                || log "xl mem-set $name ${3}m failed: $(cat "/run/pvmm/$name.memset")"
        fi
        deadline=$(( $(now_cs) + GUEST_TIMEOUT * 100 ))
        while :; do
            line=$(xlt list "$name" 2>/dev/null | sed -n 2p)
            if [ -z "$line" ]; then
                # Not listed: gone, unless xl itself failed to answer.
                xlt domid "$name" >/dev/null 2>&1 || { gone=1; break; }
            else
                set -- $line
                domid=$2
                state=$5
                [ -z "$mem_min" ] || [ "$3" -lt "$mem_min" ] && mem_min=$3
                [ -z "$mem_max" ] || [ "$3" -gt "$mem_max" ] && mem_max=$3
                if unmonitored_end "$name" "$state"; then
                    gone=1
                    break
                fi
            fi
            case " $extra " in
            *" hold "*)
                if [ -n "$actions" ]; then
                    if [ "$acted" = 0 ] && grep -aq '^PVMM-READY' "$conlog" 2>/dev/null; then
                        acted=1
                        # shellcheck disable=SC2086
                        if ! run_actions "$name" "$conlog" $actions; then
                            rc=1
                            reason=action-failed
                            capture_live "$name" "$domid"
                            xlt destroy "$name"
                            break
                        fi
                        case " $actions " in
                        *" shutdown "*|*" reboot "*) ;;
                        *) reason=held; xlt destroy "$name"; break ;;
                        esac
                        # The action asked it to go: wait for that.
                        deadline=$(( $(now_cs) + ACTION_TIMEOUT * 100 ))
                    fi
                elif grep -aq 'P2M-DIGEST' "$conlog" 2>/dev/null; then
                    check_held "$name" "$conlog" || rc=1
                    reason=held
                    break
                fi ;;
            esac
            if [ "$(now_cs)" -ge "$deadline" ]; then
                log "$name still there after ${GUEST_TIMEOUT}s (state $state): destroying it"
                capture_live "$name" "$domid"
                xlt destroy "$name"
                rc=124
                reason=timeout
                break
            fi
            sleep 0.3
        done
        if [ "$domid" = - ]; then
            # Gone before the first look: xl's monitor logged its domid.
            line=$(sed -n 's/.*(domid \([0-9]*\)).*/\1/p' \
                   "/var/log/xen/xl-$name.log" 2>/dev/null | head -n 1)
            [ -n "$line" ] && domid=$line
        fi
        if [ "$gone" = 1 ] && [ "$reason" = unknown ]; then
            code=$(sed -n 's/.*has shut down, reason code \([0-9]*\).*/\1/p' \
                   "/var/log/xen/xl-$name.log" 2>/dev/null | tail -n 1)
            if [ -n "$code" ]; then
                reason=$(reason_name "$code")
            else
                case "$state" in *c*) reason=crash ;; *s*) reason=shutdown ;; esac
            fi
        fi
        # xenconsoled may still be writing out the last of the ring.
        deadline=$(( $(now_cs) + 300 ))
        while [ "$gone" = 1 ] && ! grep -q 'Test result:' "$conlog" 2>/dev/null \
              && [ "$(now_cs)" -lt "$deadline" ]; do
            sleep 0.2
        done
    fi
    secs=$(( ($(now_cs) - t0) / 100 ))

    echo "PVMM-GUEST-BEGIN $name"
    show "$conlog"
    echo "PVMM-MEMORY $name min=${mem_min:-?} max=${mem_max:-?}"
    echo "PVMM-GUEST-END $name rc=$rc reason=$reason domid=$domid secs=$secs"
    if [ "$DIAG" = always ] || [ "$rc" -ne 0 ] || \
       { [ "$reason" != poweroff ] && [ "$reason" != held ]; } \
       || ! grep -q 'Test result:' "$conlog" 2>/dev/null; then
        diag "$name" "$domid"
    fi
    return $(( rc != 0 ))
}

[ -f "$job" ] || { log "no job file $job"; exit 2; }
status=0
guests=0
while IFS= read -r entry; do
    case "$entry" in
        ''|'#'*) continue ;;
        GUEST_TIMEOUT=*|CREATE_TIMEOUT=*|DIAG=*|ACTIONS=*|ACTION_TIMEOUT=*)
            key=${entry%%=*}
            eval "$key=\${entry#*=}"
            continue ;;
    esac
    read -r name mem maxmem extra <<EOF
$entry
EOF
    guests=$((guests + 1))
    run_guest "$name" "$mem" "$maxmem" "$extra" < /dev/null || status=1
    ACTIONS=
done < "$job"
[ "$guests" -gt 0 ] || { log "no guest in $job"; exit 2; }
exit $status
