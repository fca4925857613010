#!/usr/bin/env bash
# Builds the dom0 side of the domU test: a Debian 12 Linux kernel and an
# initramfs that holds busybox, the Xen 4.17 toolstack (xl, xenstored,
# xenconsoled, xen-init-dom0, libxl-save-helper) with its shared libraries, the five Xen
# kernel modules the toolstack needs, and tests/xl/{init,lib.sh,job.sh,pvmm.cfg.in}.
#
# Packages come from Debian with `apt-get download` and are unpacked with
# `dpkg-deb -x` into the cache; nothing is installed on the host.  The
# archive is written by the busybox from busybox-static (its cpio applet can
# create newc archives), so the host needs no cpio.  The host does need
# readelf (binutils), to follow the NEEDED entries of the binaries.
#
# Everything lives in ${PVMM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pvmm}/xl:
#   debs/               the downloaded .deb files (kept; delete to refresh)
#   vmlinuz             the dom0 Linux kernel
#   initramfs.cpio.gz   the dom0 initramfs (padded to a multiple of 4 bytes,
#                       so that another archive can be appended to it)
#   busybox             busybox-static's binary, for the per-run archive
#   stamp               the cache key of the three files above
# The cache key is a SHA-256 over the package list and the contents of this
# script, init, lib.sh, job.sh and pvmm.cfg.in: a change to any of them rebuilds.
#
# On success prints three lines, name=path: vmlinuz=, initramfs=, busybox=.
# Messages go to stderr.  FORCE=1 rebuilds even when the stamp matches.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cache=${PVMM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pvmm}/xl
debs=$cache/debs
FORCE=${FORCE:-0}

say() { echo "build-initramfs: $*" >&2; }
die() { say "$*"; exit 1; }

# What goes into the image.  linux-image-amd64 is Debian's metapackage: it
# is resolved to the versioned kernel package it depends on.  The hypervisor
# itself comes from tests/deps.sh xen and is not in this list.
packages=(
    linux-image-amd64 busybox-static
    xen-utils-4.17 xenstore-utils
    libxenmisc4.17 libxenstore4 libxencall1 libxenevtchn1
    libxenforeignmemory1 libxengnttab1 libxentoollog1 libxentoolcore1
    libxendevicemodel1 libxenhypfs1 libyajl2
    libc6 libgcc-s1 liblzma5 libuuid1 libzstd1 zlib1g
)
# The binaries copied in; their shared libraries follow from readelf -d.
xen_bin=usr/lib/xen-4.17/bin
binaries=(
    "$xen_bin/xl" "$xen_bin/xenstored" "$xen_bin/xen-init-dom0"
    "$xen_bin/xenconsoled" "$xen_bin/xenstore-control" "$xen_bin/xenctx"
    "$xen_bin/libxl-save-helper"    # xl save and restore run it
    usr/bin/xenstore
)
# xenstore-utils' xenstore-read, -ls, ... are links to usr/bin/xenstore.
xenstore_links=(xenstore-read xenstore-write xenstore-ls xenstore-list
                xenstore-exists xenstore-rm xenstore-chmod xenstore-watch)
# Loaded in dom0, each after the modules it depends on.
modules=(xen-evtchn xen-privcmd xenfs xen-gntdev xen-gntalloc)
# Not NEEDED by anything, but glibc dlopens it (pthread_cancel, unwinding).
dlopened=(libgcc_s.so.1)
image_files=(init lib.sh job.sh pvmm.cfg.in)

for f in "${image_files[@]}"; do
    [ -f "$here/$f" ] || die "$here/$f is missing"
done
command -v readelf >/dev/null || die "readelf is missing (apt-get install binutils)"
command -v dpkg-deb >/dev/null || die "dpkg-deb is missing"

key=$( { printf '%s\n' "${packages[@]}"; cat "$0";
         for f in "${image_files[@]}"; do echo "== $f"; cat "$here/$f"; done; } \
       | sha256sum | cut -d' ' -f1)

report() {
    echo "vmlinuz=$cache/vmlinuz"
    echo "initramfs=$cache/initramfs.cpio.gz"
    echo "busybox=$cache/busybox"
}

if [ "$FORCE" != 1 ] && [ "$(cat "$cache/stamp" 2>/dev/null)" = "$key" ] \
   && [ -s "$cache/vmlinuz" ] && [ -s "$cache/initramfs.cpio.gz" ] \
   && [ -x "$cache/busybox" ]; then
    report
    exit 0
fi

start=$(date +%s)
mkdir -p "$debs" || die "cannot create $debs"

# ---- download ------------------------------------------------------------

apt_opts=()
# As root, apt drops to the _apt user, which may not write to the cache.
[ "$(id -u)" -eq 0 ] && apt_opts=(-o APT::Sandbox::User=root)
apt_updated=0
apt_update() {
    [ "$apt_updated" = 1 ] && return 0
    apt_updated=1
    [ "$(id -u)" -eq 0 ] || { say "not root: cannot run apt-get update"; return 1; }
    say "apt-get update"
    apt-get update -q >&2
}

have_deb() { compgen -G "$debs/${1}_*.deb" >/dev/null; }

# linux-image-amd64 -> linux-image-<abi>-amd64; a kernel already in the
# cache wins, so that a cached setup needs no network.
resolve_kernel_pkg() {
    local f name
    for f in "$debs"/linux-image-[0-9]*-amd64_*.deb; do
        [ -e "$f" ] || continue
        name=${f##*/}
        echo "${name%%_*}"
        return 0
    done
    name=$(apt-cache depends linux-image-amd64 2>/dev/null \
           | sed -n 's/^ *Depends: \(linux-image-[0-9].*-amd64\)$/\1/p' | head -n 1)
    if [ -z "$name" ]; then
        apt_update || return 1
        name=$(apt-cache depends linux-image-amd64 2>/dev/null \
               | sed -n 's/^ *Depends: \(linux-image-[0-9].*-amd64\)$/\1/p' | head -n 1)
    fi
    [ -n "$name" ] || return 1
    echo "$name"
}

kernel_pkg=$(resolve_kernel_pkg) || die "cannot resolve linux-image-amd64"
wanted=()
for p in "${packages[@]}"; do
    [ "$p" = linux-image-amd64 ] && p=$kernel_pkg
    wanted+=("$p")
done
missing=()
for p in "${wanted[@]}"; do
    have_deb "$p" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    say "downloading ${missing[*]} (apt-get download, not installed)"
    if ! (cd "$debs" && apt-get "${apt_opts[@]}" download "${missing[@]}" >&2); then
        apt_update || die "apt-get download failed"
        (cd "$debs" && apt-get "${apt_opts[@]}" download "${missing[@]}" >&2) \
            || die "apt-get download failed"
    fi
fi
for p in "${wanted[@]}"; do
    have_deb "$p" || die "no .deb for $p in $debs"
done

# ---- unpack --------------------------------------------------------------

work=$cache/work.$$
trap 'rm -rf "$work"' EXIT
root=$work/root                 # every package unpacked
stage=$work/stage               # what goes into the archive
mkdir -p "$root" "$stage" || die "cannot create $work"
for p in "${wanted[@]}"; do
    for f in "$debs/${p}"_*.deb; do
        dpkg-deb -x "$f" "$root" || die "dpkg-deb -x $f failed"
    done
done

bb=$root/bin/busybox
[ -x "$bb" ] || die "busybox-static has no bin/busybox"

# ---- stage ---------------------------------------------------------------

mkdir -p "$stage"/{bin,sbin,usr/bin,usr/sbin,lib64,proc,sys,dev,run,tmp,var,etc/pvmm} \
    "$stage/lib/x86_64-linux-gnu" "$stage/usr/lib/x86_64-linux-gnu" \
    "$stage/$xen_bin" || die "cannot create $stage"

# busybox and a link for each of its applets (applet paths as busybox says).
cp "$bb" "$stage/bin/busybox" || die "cannot copy busybox"
while read -r applet; do
    if [ -z "$applet" ] || [ "$applet" = bin/busybox ]; then continue; fi
    [ -e "$stage/$applet" ] && continue
    mkdir -p "$stage/$(dirname "$applet")"
    ln -s /bin/busybox "$stage/$applet"
done < <("$bb" --list-full)

for b in "${binaries[@]}"; do
    [ -f "$root/$b" ] || die "$b is not in the packages"
    cp -p "$root/$b" "$stage/$b" || die "cannot copy $b"
done
for l in "${xenstore_links[@]}"; do
    ln -sf xenstore "$stage/usr/bin/$l"
done

# Shared libraries: the closure of NEEDED over the binaries, each library
# copied (symlinks followed) under its soname into the directory of the
# package it comes from.
libdirs=(lib/x86_64-linux-gnu usr/lib/x86_64-linux-gnu)
find_lib() {
    local d
    for d in "${libdirs[@]}"; do
        [ -e "$root/$d/$1" ] && { echo "$d/$1"; return 0; }
    done
    return 1
}
declare -A copied=()
queue=("${binaries[@]}")
copy_lib() {
    local rel
    [ -n "${copied[$1]:-}" ] && return 0
    rel=$(find_lib "$1") || die "shared library $1 (NEEDED) is in none of the packages"
    cp -L "$root/$rel" "$stage/$rel" || die "cannot copy $rel"
    copied[$1]=$rel
    queue+=("$rel")
}
for l in "${dlopened[@]}"; do copy_lib "$l"; done
while [ ${#queue[@]} -gt 0 ]; do
    f=${queue[0]}
    queue=("${queue[@]:1}")
    needed=$(readelf -d "$root/$f" 2>/dev/null | sed -n 's/.*(NEEDED).*\[\(.*\)\]$/\1/p')
    for n in $needed; do copy_lib "$n"; done
done
# The program interpreter the binaries ask for.
interp=$(readelf -l "$root/$xen_bin/xl" | sed -n 's/.*interpreter: \(.*\)\]$/\1/p')
[ -n "$interp" ] || die "cannot read the program interpreter of xl"
ld_so=$(find_lib "${interp##*/}") || die "${interp##*/} is not in the packages"
[ -e "$stage/$ld_so" ] || cp -L "$root/$ld_so" "$stage/$ld_so"
mkdir -p "$stage/$(dirname "$interp")"
[ -e "$stage/$interp" ] || ln -s "/$ld_so" "$stage/$interp"

# Kernel modules, dependencies first (from each module's depends= field).
kver=${kernel_pkg#linux-image-}
moddir=lib/modules/$kver
[ -d "$root/$moddir" ] || die "no $moddir in $kernel_pkg"
declare -A mod_path=() mod_done=()
while read -r f; do
    n=${f##*/}
    n=${n%.ko}
    mod_path[$n]=${f#"$root"/}
    mod_path[${n//-/_}]=${f#"$root"/}
done < <(find "$root/$moddir/kernel/drivers/xen" -name '*.ko')
mod_order=()
add_module() {
    local m=$1 deps d rel=${mod_path[$1]:-}
    [ -n "$rel" ] || die "module $m is not in $kernel_pkg (drivers/xen)"
    [ -n "${mod_done[$rel]:-}" ] && return 0
    mod_done[$rel]=1
    deps=$(tr '\0' '\n' < "$root/$rel" | sed -n 's/^depends=//p' | head -n 1)
    for d in ${deps//,/ }; do add_module "$d"; done
    mkdir -p "$stage/$(dirname "$rel")"
    cp "$root/$rel" "$stage/$rel" || die "cannot copy $rel"
    mod_order+=("/$rel")
}
for m in "${modules[@]}"; do add_module "$m"; done
printf '%s\n' "${mod_order[@]}" > "$stage/etc/pvmm/modules"

vmlinuz=$(ls "$root/boot/vmlinuz-$kver" 2>/dev/null) || die "no vmlinuz in $kernel_pkg"

# xl warns on every call without a config; dom0 has a fixed dom0_mem.
mkdir -p "$stage/etc/xen"
echo 'autoballoon="off"' > "$stage/etc/xen/xl.conf"
install -m 0755 "$here/init" "$stage/init"
install -m 0644 "$here/lib.sh" "$stage/etc/pvmm/lib.sh"
install -m 0755 "$here/job.sh" "$stage/etc/pvmm/job.sh"
install -m 0644 "$here/pvmm.cfg.in" "$stage/etc/pvmm/pvmm.cfg.in"
{
    echo "kernel_package=$kernel_pkg"
    for p in "${wanted[@]}"; do
        f=$(ls "$debs/${p}"_*.deb | head -n 1)
        echo "deb=${f##*/}"
    done
    echo "key=$key"
} > "$stage/etc/pvmm/manifest"

# ---- archive -------------------------------------------------------------

tmp_img=$cache/initramfs.cpio.gz.tmp
(cd "$stage" && find . -mindepth 1 | sed 's|^\./||' | LC_ALL=C sort \
     | "$bb" cpio -o -H newc 2>/dev/null) \
    | gzip -n -6 > "$tmp_img" || die "cannot write the initramfs"
# Pad to 4 bytes: the kernel then finds an appended archive right after it.
size=$(stat -c %s "$tmp_img")
pad=$(( (4 - size % 4) % 4 ))
[ "$pad" -gt 0 ] && head -c "$pad" /dev/zero >> "$tmp_img"

cp "$vmlinuz" "$cache/vmlinuz.tmp" && mv "$cache/vmlinuz.tmp" "$cache/vmlinuz" \
    || die "cannot copy vmlinuz"
cp "$bb" "$cache/busybox.tmp" && mv "$cache/busybox.tmp" "$cache/busybox" \
    || die "cannot copy busybox"
mv "$tmp_img" "$cache/initramfs.cpio.gz" || die "cannot move the initramfs"
cp "$stage/etc/pvmm/manifest" "$cache/manifest"
echo "$key" > "$cache/stamp"
say "initramfs ready ($(du -h "$cache/initramfs.cpio.gz" | cut -f1), kernel $kernel_pkg) in $(( $(date +%s) - start )) s"
report
