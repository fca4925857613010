#!/usr/bin/env bash
# Static checks of build/pvmm that Xen's loader depends on: the ELF notes,
# the hypercall page (page aligned, still holding the int3 poison so that
# the kernel can tell whether Xen filled it), and the segment permissions.
# Prints one line per check and "N passed, N failed".
set -uo pipefail

elf=${1:-$(dirname "$0")/../build/pvmm}
passed=0 failed=0

check() {   # check NAME EXPECTED ACTUAL
    if [ "$2" = "$3" ]; then
        echo "[ PASS ] elf.$1"; passed=$((passed + 1))
    else
        echo "[ FAIL ] elf.$1: expected '$2', got '$3'"; failed=$((failed + 1))
    fi
}

notes=$(readelf -nW "$elf")
desc_hex() {    # the descriptor of Xen note type $1 (hex), as hex digits
    # readelf -W prints the data on the note's line, without -W below it.
    echo "$notes" | awk -v want="$(printf '0x%08x' "$1")" '
        $1 == "Xen" && index($0, "(" want ")") { grab = 1 }
        grab && /description data:/ {
            sub(/.*description data: /, ""); gsub(/[ \t]/, ""); print;
            grab = 0 }'
}
text_of() {     # the string descriptor of note type $1 (hex bytes -> text)
    desc_hex "$1" | xxd -r -p 2>/dev/null | tr -d '\0'
}

check guest_os "pvmm" "$(text_of 6)"
check xen_version "xen-3.0" "$(text_of 5)"
check loader "generic" "$(text_of 8)"

hp=$(nm "$elf" | awk '$3 == "hypercall_page" { print $1 }')
check hypercall_page_aligned "000" "${hp: -3}"

# The page's bytes in the file: find its file offset through the segment.
read -r off vaddr < <(readelf -lW "$elf" | awk '$1 == "LOAD" && $NF != "" && $0 ~ /R E/ { print $2, $3; exit }')
file_off=$(( 0x${hp} - vaddr + off ))
poison=$(od -An -v -tx1 -j "$file_off" -N 4096 "$elf" | tr -s ' \n' '\n' | grep -v '^$' | sort -u | tr -d '\n')
want=$(awk '$1 == "#define" && $2 == "HYPERCALL_PAGE_POISON" {
               sub(/^0x/, "", $3); print $3 }' \
       "$(dirname "$0")/../include/pvmm/hypercall.h")
check hypercall_page_poisoned "$want" "$poison"

writable_exec=$(readelf -lW "$elf" | awk '$1 == "LOAD" && $0 ~ /RWE/' | wc -l)
check no_writable_executable_segment "0" "$writable_exec"

# XEN_ELFNOTE_FEATURES (10) is a string of feature names; the
# SUPPORTED_FEATURES bitmap (17) has XENFEAT_writable_page_tables as bit 0
# of its first (little-endian) byte.  Neither may ask for it: pvmm's
# pagetables are read-only to it and updated through Xen.
features=$(text_of 10)
supported=$(desc_hex 17)
check no_writable_page_tables_feature "no" \
    "$(grep -q writable_page_tables <<< "$features" && echo yes || echo no)"
check no_writable_page_tables_supported_bit "0" \
    "$(( ${supported:+0x${supported:0:2}} + 0 & 1 ))"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
