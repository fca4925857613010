# pvmm: a freestanding x86-64 PV guest kernel for Xen.
#
#   make            build build/pvmm
#   make run        boot it as dom0 under Xen in QEMU (CMDLINE, QEMU_MEM,
#                   DOM0_MEM, TIMEOUT)
#   make test       host unit tests + the in-guest suite; ends with a
#                   "N passed, N failed" line
#   make run-domu   boot it as a domU under xl create from a Linux dom0
#                   (MEMORY, MAXMEM, CMDLINE, TIMEOUT)
#   make bench      the benchmarks, printed and saved to build/bench.txt
#   make bench-host the p2m lookups and p2m_set on the host CPU, saved to
#                   build/bench-host.{txt,csv}, plotted to build/lookup-native.png
#                   (docs/performance.md, "Native figures")
#   make check      the quick loop: host tests, ELF checks, one 64 MiB dom0
#                   boot with audit (under 90 s)
#   make gdb        boot as dom0 paused in QEMU and attach gdb (make run's
#                   variables)
#   make mutants    one-line mutations of mm/, each booted: killed K of N
#   make mutants-suspend   the same for the suspend path, as saved domUs
#   make mutants-fuzz      the mutations of the p2m core, under the fuzzer
#   make check-host host unit tests only
#   make fuzz       the p2m core's model-based fuzzer, open-ended (make test
#                   runs its fixed seeds: make check-fuzz)
#   make fuzz-cov   the same runs under libFuzzer, coverage-guided
#   make check-layers  mm/'s include layers (mm/LAYERS); every make runs it
#   make deps       install what the above need (Debian 12, as root)

CC        ?= gcc
HOSTCC    ?= gcc
BUILD     := build
XEN_IFACE := 0x00040e00

# Only the Xen public headers come from the system (Debian's libxen-dev),
# through a directory that holds nothing else.
XEN_INC   := $(BUILD)/xen-include

# -g3 keeps macros, so gdb evaluates P2M_BASE and friends (make gdb); the
# debug sections are not loaded, so the running image is the same size.
CFLAGS := -std=gnu11 -O2 -g3 -ffreestanding -fno-pic -fno-pie \
          -mcmodel=kernel -mno-red-zone -mno-sse -mno-mmx -mno-sse2 \
          -mno-avx -fno-stack-protector -fno-asynchronous-unwind-tables \
          -fno-strict-aliasing -fno-builtin -fno-toplevel-reorder \
          -Wall -Wextra -Werror -Wno-unused-parameter \
          -nostdinc -isystem $(shell $(CC) -print-file-name=include) \
          -I include -I $(XEN_INC) \
          -D__XEN_INTERFACE_VERSION__=$(XEN_IFACE)
ASFLAGS := $(filter-out -std=gnu11,$(CFLAGS)) -D__ASSEMBLY__
LDFLAGS := -nostdlib -static -z max-page-size=4096 -z noexecstack \
           --no-warn-rwx-segments -T linker.ld

# Order matters only for head.S, which must come first in .text.head.
SRCS := boot/head.S boot/notes.S \
        arch/x86/entry.S arch/x86/probe.S arch/x86/setup.c \
        arch/x86/traps.c arch/x86/panic.c arch/x86/hypercall.c \
        arch/x86/early_map.c arch/x86/cpu.c arch/x86/smp.c \
        arch/x86/smp_park.c arch/x86/spinlock.c \
        xen/console.c xen/shared_info.c xen/time.c xen/sched.c \
        xen/events.c xen/xenstore.c xen/control.c xen/suspend.c \
        xen/hold.c \
        xen/multicall.c xen/memory.c \
        mm/mm.c mm/frame.c mm/bootmap.c mm/pmap.c mm/pmap_report.c \
        mm/frame_map.c mm/pt.c mm/pt_walk.c mm/pt_flush.c \
        mm/pt_hooks.c mm/pt_pin.c mm/mmu_lazy.c mm/directmap.c \
        mm/p2m_lookup.c mm/p2m_m2p.c mm/p2m_tree.c mm/p2m_boot.c mm/p2m_e820.c \
        mm/p2m_shape.c mm/p2m_revector.c mm/p2m_set.c mm/p2m_frames.c \
        mm/p2m_audit.c mm/p2m_map.c mm/p2m_pv.c mm/p2m_pv_audit.c \
        mm/balloon.c mm/mm_suspend.c mm/p2m_suspend.c mm/frame_tags.c \
        lib/string.c lib/format.c lib/printk.c lib/cmdline.c lib/glob.c \
        lib/stats.c lib/inject.c \
        tests/guest/harness.c tests/guest/test_boot.c \
        tests/guest/test_cmdline.c tests/guest/test_console.c \
        tests/guest/test_traps.c tests/guest/test_mm.c \
        tests/guest/test_pt.c tests/guest/test_p2m.c \
        tests/guest/test_balloon.c tests/guest/test_inject.c \
        tests/guest/test_selftest.c tests/guest/test_events.c \
        tests/guest/test_xenstore.c tests/guest/test_suspend.c \
        tests/guest/test_smp.c tests/guest/test_spinlock.c \
        tests/guest/test_smp_mm.c \
        tests/bench/bench.c tests/bench/bench_p2m.c tests/bench/bench_pin.c \
        tests/bench/bench_p2m_memory.c \
        tests/bench/bench_mm.c tests/bench/bench_balloon.c \
        tests/bench/bench_smp.c

OBJS := $(patsubst %,$(BUILD)/obj/%.o,$(basename $(SRCS)))
DEPS := $(OBJS:.o=.d)

all: $(BUILD)/pvmm

$(XEN_INC)/xen:
	@test -f /usr/include/xen/xen.h || tests/deps.sh headers
	@mkdir -p $(XEN_INC)
	ln -sfn /usr/include/xen $(XEN_INC)/xen

# V=1 shows the full commands.
Q := $(if $(V),,@)

$(BUILD)/obj/%.o: %.c | $(XEN_INC)/xen
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/obj/%.o: %.S | $(XEN_INC)/xen
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  AS      $<")
	$(Q)$(CC) $(ASFLAGS) -MMD -MP -c $< -o $@

# The layers of mm/ (mm/LAYERS, tools/check-layers): a file that includes a
# higher layer's header, modules that include each other, or an mm file
# missing from the table fail the build, and so does a module graph in
# docs/design.md that is not the code's.  Under a second, so it always
# runs; order-only, so passing it never relinks.
check-layers:
	@$(if $(Q),echo "  LAYERS  mm/LAYERS")
	$(Q)tools/check-layers --doc docs/design.md

$(BUILD)/pvmm: $(OBJS) linker.ld | check-layers
	@$(if $(Q),echo "  LD      $@")
	$(Q)ld $(LDFLAGS) -o $@ $(OBJS)
	@size $@

$(OBJS): Makefile

-include $(DEPS)

# ---- host unit tests: the pure-logic files compiled for the build host ----
HOST_CFLAGS := -std=gnu11 -O1 -g -Wall -Wextra -Werror -Wno-unused-parameter \
               -fsanitize=address,undefined -fno-builtin -I include \
               -I tests/host -Dsnprintf=pvmm_snprintf -Dvsnprintf=pvmm_vsnprintf
HOST_SRCS   := tests/host/host_main.c tests/host/test_format.c \
               tests/host/test_cmdline.c tests/host/test_glob.c \
               tests/host/test_pmap.c tests/host/test_stats.c \
               tests/host/test_inject.c tests/host/test_time.c \
               lib/format.c lib/cmdline.c lib/glob.c mm/pmap_report.c \
               lib/stats.c lib/inject.c

$(BUILD)/host-tests: $(HOST_SRCS) $(wildcard include/pvmm/*.h tests/host/*.h)
	@mkdir -p $(BUILD)
	$(HOSTCC) $(HOST_CFLAGS) -o $@ $(HOST_SRCS)

# ---- the p2m core on the host: fuzzer and native benchmarks ----
# The core's files are the `core` lines of mm/LAYERS, compiled unchanged;
# the array moves to a user address (tests/host/p2m_host.h).
P2M_CORE_SRCS := $(shell awk '$$1 == "core" && $$2 ~ /\.c$$/ { print $$2 }' mm/LAYERS)
# -Wno-unused-parameter as for the kernel: a mutant may leave one unused.
P2M_HOST_CFLAGS := -std=gnu11 -g -Wall -Wextra -Werror -Wno-unused-parameter \
                   -I include -DP2M_BASE=0x300000000000UL
FUZZ_RUN_SRCS := tests/host/fuzz_check.c tests/host/fuzz_model.c \
                 tests/host/fuzz_ops.c tests/host/p2m_host.c $(P2M_CORE_SRCS)
FUZZ_SRCS := tests/host/fuzz_p2m.c $(FUZZ_RUN_SRCS)
FUZZ_OPS   ?= 2000

$(BUILD)/fuzz-p2m: $(FUZZ_SRCS) $(wildcard include/pvmm/*.h tests/host/*.h mm/*.h)
	@mkdir -p $(BUILD)
	$(HOSTCC) $(P2M_HOST_CFLAGS) -O2 -fsanitize=address,undefined \
	    -fno-sanitize-recover=all -o $@ $(FUZZ_SRCS)

# What make test runs: the kept regression cases, the self-test and the
# fixed seeds (tests/host/run-fuzz.sh).
check-fuzz: $(BUILD)/fuzz-p2m
	tests/host/run-fuzz.sh

# Open-ended, the auditor after every op: new seeds until a failure, then
# its shortest sequence.
fuzz: $(BUILD)/fuzz-p2m
	$(BUILD)/fuzz-p2m --forever --ops $(FUZZ_OPS) --audit-every 1

# The same runs, coverage-guided: libFuzzer's inputs are the runs'
# choices (tests/host/fuzz_libfuzzer.c; Debian's clang and its fuzzer
# runtime).  The driver is built without coverage: clang 14 stops
# registering the counters when an instrumented file names them.
FUZZ_CLANG ?= clang
FUZZ_COV_FLAGS := $(P2M_HOST_CFLAGS) -O1 -fno-sanitize-recover=all
FUZZ_COV_ARGS ?=

$(BUILD)/fuzz-p2m-cov: tests/host/fuzz_libfuzzer.c $(FUZZ_RUN_SRCS) \
                       $(wildcard include/pvmm/*.h tests/host/*.h mm/*.h)
	@mkdir -p $(BUILD)
	$(FUZZ_CLANG) $(FUZZ_COV_FLAGS) -fsanitize=address,undefined -c \
	    -o $(BUILD)/fuzz_libfuzzer.o tests/host/fuzz_libfuzzer.c
	$(FUZZ_CLANG) $(FUZZ_COV_FLAGS) -fsanitize=fuzzer,address,undefined \
	    -o $@ $(BUILD)/fuzz_libfuzzer.o $(FUZZ_RUN_SRCS)

# Open-ended: the corpus grows in build/fuzz-corpus, a failure is kept
# in build/fuzz-artifacts/ and printed as a replay file.
fuzz-cov:
	@tests/deps.sh headers fuzz
	$(MAKE) $(BUILD)/fuzz-p2m-cov
	@mkdir -p $(BUILD)/fuzz-corpus $(BUILD)/fuzz-artifacts
	$(BUILD)/fuzz-p2m-cov -max_len=4096 -len_control=0 \
	    -artifact_prefix=$(BUILD)/fuzz-artifacts/ $(FUZZ_COV_ARGS) \
	    $(BUILD)/fuzz-corpus

# Native lookup benchmarks on the host CPU (docs/performance.md): the
# core and pfn_to_mfn() as above, no sanitizers; mm/p2m_tree.c includes
# xen.h for its error numbers.  The plot needs Debian's matplotlib.
BENCH_HOST_SRCS := tests/host/bench_p2m.c tests/host/p2m_host.c \
                   $(P2M_CORE_SRCS) mm/p2m_tree.c

$(BUILD)/bench-p2m: $(BENCH_HOST_SRCS) $(wildcard include/pvmm/*.h tests/host/*.h mm/*.h)
	@mkdir -p $(BUILD)
	$(HOSTCC) $(P2M_HOST_CFLAGS) -O2 -D__XEN_INTERFACE_VERSION__=$(XEN_IFACE) \
	    -o $@ $(BENCH_HOST_SRCS)

bench-host:
	@tests/deps.sh headers
	$(MAKE) $(BUILD)/bench-p2m
	$(BUILD)/bench-p2m --txt $(BUILD)/bench-host.txt --csv $(BUILD)/bench-host.csv
	@tests/deps.sh plot
	tools/plot-lookups $(BUILD)/bench-host.csv $(BUILD)/lookup-native.png

check-host: $(BUILD)/host-tests
	$(BUILD)/host-tests
	tests/check-layers-selftest.sh

# ---- running under Xen ----
CMDLINE  ?=
QEMU_MEM ?= 512
DOM0_MEM ?= 64M
TIMEOUT  ?= 120
VCPUS    ?= 1
export CMDLINE QEMU_MEM DOM0_MEM TIMEOUT VCPUS

# deps first: on a fresh machine it installs QEMU, the headers and Xen.
run: deps
	$(MAKE) $(BUILD)/pvmm
	tests/run-dom0.sh

# Per-run timeout: 900 s unless TIMEOUT is given (make run's 120 is too
# short for the 4.5 GiB dom0 under TCG).
test: deps
	$(MAKE) $(BUILD)/pvmm $(BUILD)/host-tests $(BUILD)/fuzz-p2m $(BUILD)/bench-p2m \
	    $(BUILD)/fuzz-p2m-cov
	TIMEOUT=$(if $(filter command line environment,$(origin TIMEOUT)),$(TIMEOUT),900) \
	    tests/run-all.sh

# One domU under `xl create` from a Linux dom0 (tests/xl/): MEMORY, MAXMEM,
# CMDLINE, TIMEOUT.  Linux's dom0 gets DOMU_DOM0_MEM MiB, not DOM0_MEM.
MEMORY        ?= 64
MAXMEM        ?= $(MEMORY)
DOMU_DOM0_MEM ?= 512
run-domu: deps
	$(MAKE) $(BUILD)/pvmm
	MEMORY=$(MEMORY) MAXMEM=$(MAXMEM) DOM0_MEM=$(DOMU_DOM0_MEM) \
	    TIMEOUT=$(if $(filter command line environment,$(origin TIMEOUT)),$(TIMEOUT),300) \
	    QEMU_MEM=$(if $(filter command line environment,$(origin QEMU_MEM)),$(QEMU_MEM),) \
	    tests/xl/run-domu.sh

# The edit-compile-test loop: the host tests, the ELF checks and one
# 64 MiB dom0 boot of the whole suite with the auditor after every test,
# in a 4.5 GiB machine: the PCI hole and RAM above 4 GiB give it machine
# holes below max_mfn and whole identity chunks, at no cost in time.
check: deps
	$(MAKE) $(BUILD)/pvmm $(BUILD)/host-tests $(BUILD)/fuzz-p2m
	$(BUILD)/host-tests
	tests/check-layers-selftest.sh
	$(BUILD)/fuzz-p2m --replay tests/host/fuzz-cases/*.ops
	$(BUILD)/fuzz-p2m --seeds 1-20
	tests/check-elf.sh
	CMDLINE="audit $(CMDLINE)" DOM0_MEM=64M QEMU_MEM=4608 tests/run-dom0.sh

# QEMU paused before Xen, its gdbstub on a unix socket, and gdb attached
# with the kernel's symbols and tests/gdb/pvmm.gdb (README: Debugging).
gdb: deps
	$(MAKE) $(BUILD)/pvmm
	TIMEOUT=$(if $(filter command line environment,$(origin TIMEOUT)),$(TIMEOUT),3600) \
	    tests/run-gdb.sh

# One-line mutations of mm/ (tests/mutants/mutations.txt), each booted
# with the 64 MiB audit run: prints "mutants: killed K of N" and the
# survivors.  Not part of make test (about 16 minutes on 2 cores).
mutants: deps
	$(MAKE) $(BUILD)/pvmm
	tests/mutants/run.sh $(MUTANT)

# The suspend path's mutations (tests/mutants/suspend.txt), each booted as
# domUs that xl saves, restores and checkpoints (about 5 minutes): one
# saved through the frame list, one through the linear list (p2m_cr3).
SUSPEND_MATRIX := s:64:96:tests=suspend.* audit await_save hold|save \
	balloon:48 save checkpoint save shutdown;l:64:64:tests=suspend.* \
	audit await_save p2m_list=linear hold|save shutdown
mutants-suspend: deps
	$(MAKE) $(BUILD)/pvmm
	MUTANT_LIST=tests/mutants/suspend.txt \
	    MUTANT_MATRIX="$(SUSPEND_MATRIX)" tests/mutants/run.sh $(MUTANT)

# The same mutations, those of the portable p2m core, under the host
# fuzzer instead of a boot (a few minutes): does the fuzzer notice?
mutants-fuzz:
	MUTANT_FUZZ=1 tests/mutants/run.sh $(MUTANT)

# The benchmarks: dom0 with 1 GiB, figures to build/bench.txt.
bench: deps
	$(MAKE) $(BUILD)/pvmm
	tests/run-bench.sh

deps:
	@tests/deps.sh all

clean:
	rm -rf $(BUILD)/obj $(BUILD)/pvmm $(BUILD)/host-tests $(BUILD)/logs

.PHONY: all run run-domu test bench bench-host check check-host check-fuzz fuzz fuzz-cov check-layers gdb mutants \
	mutants-suspend mutants-fuzz \
        deps clean
