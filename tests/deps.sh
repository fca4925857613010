#!/usr/bin/env bash
# Installs what building and testing pvmm needs on Debian 12 (run as root):
#
#   deps.sh headers   libxen-dev (the Xen public headers), the compiler, and
#                     python3 (tests/junit.py, tools/)
#   deps.sh qemu      qemu-system-x86
#   deps.sh debug     gdb (Debian's, built with Python) for make gdb and its
#                     check in make test
#   deps.sh xen       Debian's Xen 4.17 hypervisor, unpacked into a cache
#                     ($PVMM_CACHE, default ~/.cache/pvmm; never /boot) and gunzipped to an ELF
#                     that qemu's -kernel loads; prints its path
#   deps.sh fuzz      clang and its libFuzzer runtime (libclang-rt-14-dev),
#                     for make fuzz-cov and its check in make test
#   deps.sh plot      Debian's python3-matplotlib, for make bench-host's
#                     plot (tools/plot-lookups); not part of all
#   deps.sh all       all of the above but plot
#
# Several steps may be named at once: deps.sh headers fuzz.
#
# Each step does nothing if its result is already there, and says what it
# installs when it does.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cache=${PVMM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pvmm}
xen_pkg=xen-hypervisor-4.17-amd64
xen_elf=$cache/xen/xen-4.17-amd64.elf

say() { echo "deps: $*" >&2; }

apt_updated=
apt_install() {
    local missing=()
    for p in "$@"; do
        [[ $(dpkg-query -W -f='${Status}' "$p" 2>/dev/null) == *"ok installed"* ]] \
            || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    [ "$(id -u)" -eq 0 ] || { say "need root to install: ${missing[*]}"; exit 1; }
    if [ -z "$apt_updated" ]; then
        say "apt-get update"
        apt-get update -q >&2
        apt_updated=1
    fi
    say "installing ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
        "${missing[@]}" >&2
}

headers() { apt_install libxen-dev gcc make binutils libc6-dev xxd bc python3; }

qemu() { apt_install qemu-system-x86; }

debug() { apt_install gdb; }

fuzz() { apt_install clang libclang-rt-14-dev; }

plot() { apt_install python3 python3-matplotlib; }

xen() {
    if [ -s "$xen_elf" ]; then
        echo "$xen_elf"
        return 0
    fi
    mkdir -p "$cache/xen"
    if ! ls "$cache/xen/$xen_pkg"_*.deb >/dev/null 2>&1; then
        [ -n "$apt_updated" ] || { say "apt-get update"; apt-get update -q >&2; apt_updated=1; }
        say "downloading $xen_pkg (apt-get download, not installed)"
        (cd "$cache/xen" && apt-get download "$xen_pkg" >&2)
    fi
    rm -rf "$cache/xen/root"
    dpkg-deb -x "$cache/xen/$xen_pkg"_*.deb "$cache/xen/root"
    gunzip -c "$cache/xen/root/boot/xen-4.17-amd64.gz" > "$xen_elf.tmp"
    mv "$xen_elf.tmp" "$xen_elf"
    say "Xen hypervisor ready: $xen_elf"
    echo "$xen_elf"
}

for step in "${@:-all}"; do
    case "$step" in
        headers) headers ;;
        qemu) qemu ;;
        xen) xen ;;
        debug) debug ;;
        fuzz) fuzz ;;
        plot) plot ;;
        all) headers; qemu; debug; fuzz; xen >/dev/null ;;
        *) echo "usage: $0 headers|qemu|debug|xen|fuzz|plot|all ..." >&2
           exit 2 ;;
    esac
done
