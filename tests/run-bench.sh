#!/usr/bin/env bash
# `make bench`: boots dom0 with `bench` (1 GiB unless DOM0_MEM says
# otherwise), prints the BENCH lines, and saves them to build/bench.txt.
# Exits like the dom0 runner; an empty figure set is an error.
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
out=$top/build/bench.txt
log=$top/build/logs/bench-$(date +%Y%m%d-%H%M%S).log
mem=${BENCH_DOM0_MEM:-1024M}
qmem=${BENCH_QEMU_MEM:-2048}

# Two vCPUs: the cross-vCPU flush figures need a second one to reach.
vcpus=${BENCH_VCPUS:-2}
echo "run-bench: dom0 $mem on $vcpus vCPUs in QEMU ${qmem} MiB; figures to $out" >&2
CMDLINE="bench tests=boot.*" DOM0_MEM=$mem QEMU_MEM=$qmem QUIET=1 LOG=$log \
    VCPUS=$vcpus \
    TIMEOUT=${TIMEOUT:-900} "$top/tests/run-dom0.sh"
rc=$?
{
    echo "# pvmm benchmarks, $(date -u +%Y-%m-%dT%H:%MZ), dom0 $mem, $vcpus vCPUs, $(git -C "$top" rev-parse --short HEAD 2>/dev/null)"
    tr -d '\r' < "$log" | grep -E '^BENCH'
} > "$out"
cat "$out"
if ! grep -q '^BENCH ' "$out"; then
    echo "run-bench: no figures (log: $log)" >&2
    exit 6
fi
if grep -q '^BENCH-ERROR' "$out"; then
    echo "run-bench: some benchmarks could not run (log: $log)" >&2
fi
exit "$rc"
