# Helpers for the test dom0's init and job.sh (busybox sh), sourced from
# /etc/pvmm/lib.sh.  Every wait here ends at a deadline taken from
# /proc/uptime, never after a count of loop turns: under TCG one turn can
# take anywhere from milliseconds to seconds.

log() { echo "pvmm-dom0: $*"; }

# Centiseconds since boot.  The fraction always has two digits; putting a 1
# before it keeps a leading 0 from being read as octal.
now_cs() {
    local up
    read -r up _ < /proc/uptime
    echo $(( ${up%.*} * 100 + 1${up#*.} - 100 ))
}

# True while process PID exists and has not exited (a zombie has).
running() {
    local st
    { read -r st < "/proc/$1/stat"; } 2>/dev/null || return 1
    st=${st##*) }
    [ "${st%% *}" != Z ]
}

# bounded SECS CMD...: runs CMD and returns its status, or kills it and
# returns 124 when it is still running SECS seconds later.
bounded() {
    local secs=$1 pid deadline
    shift
    "$@" &
    pid=$!
    deadline=$(( $(now_cs) + secs * 100 ))
    while running "$pid"; do
        if [ "$(now_cs)" -ge "$deadline" ]; then
            kill -KILL "$pid" 2>/dev/null
            wait "$pid" 2>/dev/null
            return 124
        fi
        sleep 0.1
    done
    wait "$pid"
}

# wait_for SECS WHAT CMD...: runs CMD until it succeeds; gives up (false)
# when SECS seconds have passed.
wait_for() {
    local secs=$1 what=$2 deadline
    shift 2
    deadline=$(( $(now_cs) + secs * 100 ))
    while ! "$@" >/dev/null 2>&1; do
        if [ "$(now_cs)" -ge "$deadline" ]; then
            log "gave up after ${secs}s waiting for $what"
            return 1
        fi
        sleep 0.2
    done
    return 0
}
