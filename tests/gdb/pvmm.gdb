# gdb settings and commands for pvmm under QEMU's gdbstub (make gdb).
# Load it from the top of the source tree: gdb -x tests/gdb/pvmm.gdb
#
#   pvmm-walk VA    the pagetable entries that translate VA, read from cr3
#                   in machine memory, each mfn with the pfn Xen's M2P gives
#   pvmm-p2m PFN    PFN's p2m entry, read from the leaf in machine memory,
#                   and whether its L2, L1 and leaf are private or shared
#
# Both need the CPU stopped in pvmm's code (a breakpoint there), where cr3
# is pvmm's pagetable.  Breakpoints are on virtual addresses: set them
# before `continue` and they fire once Xen has started the kernel.
set pagination off
set print pretty on
python
import os, sys
sys.path.insert(0, os.path.join(os.getcwd(), "tests", "gdb"))
import pvmm
end
