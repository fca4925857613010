#!/usr/bin/env bash
# make test's check of the p2m picture: a console log of a boot with
# `p2m_map` that ran balloon.sparse_populate_terabytes_apart (the gdb
# step's boot) must hold the booted, sparse and final dumps; each must
# agree with the kernel's own accounting (tools/p2m-map --check); the
# sparse layout must be the booted one plus the four far frames' leaves,
# and everything must collapse back; the SVG must parse as XML; and the
# tool must reject a dump whose totals were tampered with.
#
#   check-p2m-map.sh LOG     prints [ PASS ]/[ FAIL ] and "N passed, N failed"
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
tool=$top/tools/p2m-map
log=${1:?usage: check-p2m-map.sh LOG}
passed=0 failed=0
tmp=$(mktemp -d) && trap 'rm -rf "$tmp"' EXIT

result() {  # result NAME OK [WHY]
    if [ "$2" = 0 ]; then
        echo "[ PASS ] p2m_map.$1"; passed=$((passed + 1))
    else
        echo "[ FAIL ] p2m_map.$1: ${3:-}"; failed=$((failed + 1))
    fi
}

leaves() {  # leaves LABEL: the kernel's private leaf count in that dump
    tr -d '\r' < "$log" | sed -n "s/.*P2M-MAP end label=$1 leaves=\([0-9]*\) .*/\1/p" |
        tail -n 1
}

for label in booted sparse final; do
    why=$("$tool" "$log" --check --label "$label" 2>&1)
    result "${label}_dump_agrees_with_the_kernel" $? "$why"
done

b=$(leaves booted) s=$(leaves sparse) f=$(leaves final)
[ -n "$b" ] && [ -n "$s" ] && [ "$s" = $((b + 4)) ]
result sparse_adds_one_leaf_per_far_frame $? "booted $b, sparse $s"
[ -n "$f" ] && [ "$f" = "$b" ]
result final_layout_collapsed_back_to_booted $? "booted $b, final $f"

"$tool" "$log" --label sparse -o "$tmp/sparse.svg" &&
    python3 -c 'import sys, xml.etree.ElementTree as E; E.parse(sys.argv[1])' \
        "$tmp/sparse.svg" 2> "$tmp/err"
result svg_is_well_formed_xml $? "$(cat "$tmp/err" 2>/dev/null)"

# Tampered totals: one private leaf more than the grid shows.
tr -d '\r' < "$log" |
    sed "s/\(P2M-MAP end label=booted leaves=\)\([0-9]*\)/\1$((b + 1))/" \
    > "$tmp/tampered.log"
"$tool" "$tmp/tampered.log" --check --label booted > /dev/null 2>&1
[ $? = 1 ]
result tool_rejects_a_dump_that_disagrees $? "exit 0 on a tampered dump"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
