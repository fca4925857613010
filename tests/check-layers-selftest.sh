#!/usr/bin/env bash
# tools/check-layers must fail when mm/ breaks its layers: runs it on tiny
# generated trees, one clean and one per kind of violation, and checks the
# exit code and that the message names the file, the header and both
# layers.  Prints one line per check and "N passed, N failed".
set -uo pipefail

checker=$(cd "$(dirname "$0")/.." && pwd)/tools/check-layers
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passed=0 failed=0

# A tree of three layers: low.h/low.c (0), mid.h/mid.c (1), top.c (2).
fixture() {     # fixture DIR
    mkdir -p "$1/mm" "$1/include/pvmm"
    printf '#include <stdint.h>\n' > "$1/include/pvmm/low.h"
    printf '#include <pvmm/low.h>\n' > "$1/mm/low.c"
    printf '#include <pvmm/low.h>\n' > "$1/include/pvmm/mid.h"
    printf '#include <pvmm/mid.h>\n#include "core.h"\n' > "$1/mm/mid.c"
    printf '#include <pvmm/mid.h>\n#include <pvmm/low.h>\n' > "$1/mm/top.c"
    printf '#include <pvmm/low.h>\n' > "$1/mm/core.h"
    printf '#include "core.h"\n#include <pvmm/low.h>\n' > "$1/mm/core.c"
    cat > "$1/mm/LAYERS" <<'TABLE'
# fixture
0 include/pvmm/low.h
0 mm/low.c
1 include/pvmm/mid.h
1 mm/mid.c
1 mm/core.h
1 mm/core.c
2 mm/top.c
core mm/core.c
core-allow mm/core.h
core-allow include/pvmm/low.h
TABLE
}

# expect NAME WANT_RC GREP_PATTERN DIR [ARGS...]: run the checker on DIR.
expect() {
    local out rc
    out=$("$checker" --root "$4" "${@:5}" 2>&1); rc=$?
    if [ "$rc" -ne "$2" ]; then
        echo "[ FAIL ] layers.$1: exit $rc, expected $2: $out"
        failed=$((failed + 1))
    elif [ -n "$3" ] && ! grep -q -- "$3" <<< "$out"; then
        echo "[ FAIL ] layers.$1: no line matching '$3' in: $out"
        failed=$((failed + 1))
    else
        echo "[ PASS ] layers.$1"
        passed=$((passed + 1))
    fi
}

fixture "$work/clean"
expect clean_tree_passes 0 '' "$work/clean"

fixture "$work/up"
printf '#include <pvmm/mid.h>\n' >> "$work/up/mm/low.c"
expect upward_include_fails 1 \
    'mm/low.c (layer 0) includes <pvmm/mid.h> (layer 1)' "$work/up"

fixture "$work/cycle"      # same layer, so only the cycle check sees it
printf '#include "core.h"\n' > "$work/cycle/mm/mid.c"
printf '#include <pvmm/mid.h>\n' > "$work/cycle/mm/core.h"
sed -i '/^core/d' "$work/cycle/mm/LAYERS"
expect module_cycle_fails 1 'module cycle: core -> mid -> core' "$work/cycle"

fixture "$work/missing"
printf '#include <pvmm/low.h>\n' > "$work/missing/mm/new.c"
expect file_missing_from_table_fails 1 'mm/new.c: not in the layer table' \
    "$work/missing"

fixture "$work/unknown"
printf '#include <pvmm/other.h>\n' >> "$work/unknown/mm/top.c"
expect unlisted_header_fails 1 \
    'mm/top.c includes <pvmm/other.h>, which is not in the layer table' \
    "$work/unknown"

fixture "$work/core"
printf '#include <pvmm/mid.h>\n' >> "$work/core/mm/core.c"
expect core_include_off_the_allow_list_fails 1 \
    'mm/core.c (p2m core) includes <pvmm/mid.h>' "$work/core"

fixture "$work/coresys"
printf '#include <stdint.h>\n' >> "$work/coresys/mm/core.c"
expect core_system_include_fails 1 \
    'mm/core.c (p2m core) includes <stdint.h>' "$work/coresys"

fixture "$work/stale"
rm "$work/stale/mm/top.c"
expect stale_table_entry_fails 1 \
    'mm/top.c: in the layer table but does not exist' "$work/stale"

fixture "$work/coresysok"
printf '#include <xen/errno.h>\n' >> "$work/coresysok/mm/core.c"
echo 'core-allow <xen/errno.h>' >> "$work/coresysok/mm/LAYERS"
expect core_allowed_system_include_passes 0 '' "$work/coresysok"

# The drawing in the docs: right, then one edge off.
fixture "$work/doc"
{ echo '<!-- tools/check-layers --graph -->'; echo '```text'
  "$checker" --root "$work/doc" --graph; echo '```'; } > "$work/doc/d.md"
expect doc_graph_that_matches_passes 0 '' "$work/doc" --doc "$work/doc/d.md"
sed -i 's/^top -> .*/top -> low/' "$work/doc/d.md"
expect stale_doc_graph_fails 1 'the module graph drawn there is stale' \
    "$work/doc" --doc "$work/doc/d.md"
printf 'no drawing here\n' > "$work/doc/e.md"
expect doc_without_a_graph_fails 1 'no block after' "$work/doc" \
    --doc "$work/doc/e.md"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
