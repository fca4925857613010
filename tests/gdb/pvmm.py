# gdb commands for looking at a running pvmm from QEMU's gdbstub.
#
# Loaded by tests/gdb/pvmm.gdb.  Everything here reads what the *hardware*
# sees, not what the kernel believes: pagetables are walked from cr3 in
# machine memory (QEMU's physical-memory mode), and machine frames are
# turned into pfns through Xen's read-only M2P.  That makes the commands
# useful exactly when the kernel's own view is what is in doubt.
#
#   pvmm-walk VA        the four pagetable levels that translate VA
#   pvmm-p2m PFN        PFN's p2m entry and which pages back it
#   pvmm-check          the non-interactive checks `make test` runs
#
# The commands work while the CPU is stopped in pvmm's own code (after a
# breakpoint there): only then is cr3 pvmm's pagetable and the M2P mapped.

import os
import re

import gdb

PAGE_SHIFT = 12
PT_ENTRIES = 512
PTE_ADDR_MASK = 0x000FFFFFFFFFF000
PTE_PRESENT, PTE_RW, PTE_USER = 1 << 0, 1 << 1, 1 << 2
PTE_PSE, PTE_NX = 1 << 7, 1 << 63
INVALID_P2M_ENTRY = (1 << 64) - 1
IDENTITY_FRAME_BIT = 1 << 62
P2M_PER_PAGE = 512
# Xen's read-only M2P for 64-bit PV guests (MACH2PHYS_VIRT_START).
M2P_BASE = 0xFFFF800000000000

LAYOUT_H = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                        "..", "..", "include", "pvmm", "layout.h")


def layout_constant(name):
    """A #define from include/pvmm/layout.h, so this file never drifts."""
    with open(LAYOUT_H) as f:
        m = re.search(r"#define\s+%s\s+(0x[0-9a-fA-F]+)" % name, f.read())
    if not m:
        raise gdb.GdbError("%s not found in %s" % (name, LAYOUT_H))
    return int(m.group(1), 16)


P2M_BASE = layout_constant("P2M_BASE")


class PvmmError(gdb.GdbError):
    pass


def read_u64_virt(va):
    mem = gdb.selected_inferior().read_memory(va, 8)
    return int.from_bytes(mem.tobytes(), "little")


def read_u64_machine(maddr):
    """Reads machine memory through QEMU's physical-memory mode."""
    gdb.execute("maintenance packet Qqemu.PhyMemMode:1", to_string=True)
    try:
        return read_u64_virt(maddr)
    finally:
        gdb.execute("maintenance packet Qqemu.PhyMemMode:0", to_string=True)


def m2p(mfn):
    """Xen's answer to "which pfn has mfn", or None for no answer."""
    try:
        pfn = read_u64_virt(M2P_BASE + mfn * 8)
    except gdb.MemoryError:
        return None             # an mfn in a machine hole
    return None if pfn >> 63 else pfn


def cr3_mfn():
    return int(gdb.parse_and_eval("(unsigned long)$cr3")) >> PAGE_SHIFT


def symbol_mfn(expr):
    """The mfn held by a kernel variable of type mfn_t."""
    return int(gdb.parse_and_eval("(%s).mfn" % expr))


def pte_flags(pte):
    names = [("P", PTE_PRESENT), ("RW", PTE_RW), ("US", PTE_USER),
             ("PSE", PTE_PSE), ("NX", PTE_NX)]
    return " ".join(n for n, bit in names if pte & bit) or "-"


def walk(va):
    """[(level, table_mfn, index, pte)] from L4 down, as the MMU walks."""
    steps = []
    table = cr3_mfn()
    for level in (4, 3, 2, 1):
        index = (va >> (PAGE_SHIFT + 9 * (level - 1))) & (PT_ENTRIES - 1)
        pte = read_u64_machine((table << PAGE_SHIFT) + index * 8)
        steps.append((level, table, index, pte))
        if not pte & PTE_PRESENT or (level in (3, 2) and pte & PTE_PSE):
            break
        table = (pte & PTE_ADDR_MASK) >> PAGE_SHIFT
    return steps


def describe_pfn(mfn):
    pfn = m2p(mfn)
    return "pfn %#x" % pfn if pfn is not None else "no pfn in the M2P"


class WalkCommand(gdb.Command):
    """pvmm-walk VA: the pagetable entries that translate VA, from cr3."""

    def __init__(self):
        super().__init__("pvmm-walk", gdb.COMMAND_DATA)

    def invoke(self, arg, from_tty):
        va = int(gdb.parse_and_eval(arg)) & ((1 << 64) - 1)
        for level, table, index, pte in walk(va):
            mfn = (pte & PTE_ADDR_MASK) >> PAGE_SHIFT
            print("L%d table mfn %#x [%3d] = %#018x  mfn %#x (%s)  %s" %
                  (level, table, index, pte, mfn, describe_pfn(mfn),
                   pte_flags(pte)))


def p2m_backing(pfn):
    """What backs pfn's slot in the linear p2m, read from the hardware.

    Returns a dict: the mfns of the L2, L1 and leaf found by the walk, each
    classified against the kernel's shared pages, and the raw entry read
    from the leaf in machine memory.
    """
    va = P2M_BASE + pfn * 8
    steps = walk(va)
    if len(steps) < 4 or not steps[-1][3] & PTE_PRESENT:
        raise PvmmError("p2m slot of pfn %#x (va %#x) is not mapped: every "
                        "L3 entry of the p2m area must be" % (pfn, va))
    mfns = [(pte & PTE_ADDR_MASK) >> PAGE_SHIFT for _, _, _, pte in steps]
    shared = "p2m_shared"
    l2, l1, leaf = mfns[1], mfns[2], mfns[3]
    entry = read_u64_machine((leaf << PAGE_SHIFT) + (pfn % P2M_PER_PAGE) * 8)
    return {
        "l3": mfns[0], "l3_is_p2m_l3": mfns[0] == symbol_mfn(shared + ".l3"),
        "l2": l2,
        "l2_kind": ("shared missing_pmd"
                    if l2 == symbol_mfn(shared + ".missing_pmd")
                    else "shared identity_pmd"
                    if l2 == symbol_mfn(shared + ".identity_pmd")
                    else "private"),
        "l1": l1,
        "l1_kind": ("shared missing_pte"
                    if l1 == symbol_mfn(shared + ".missing_pte")
                    else "shared identity_pte"
                    if l1 == symbol_mfn(shared + ".identity_pte")
                    else "private"),
        "leaf": leaf,
        "leaf_kind": ("p2m_missing"
                      if leaf == symbol_mfn(shared + ".missing")
                      else "p2m_identity"
                      if leaf == symbol_mfn(shared + ".identity")
                      else "private leaf"),
        "leaf_writable": bool(steps[-1][3] & PTE_RW),
        "entry": entry,
    }


def describe_entry(pfn, entry):
    if entry == INVALID_P2M_ENTRY:
        return "INVALID (missing, or identity if the backing says so)"
    if entry & IDENTITY_FRAME_BIT:
        return "IDENTITY_FRAME(%#x)" % (entry & ~IDENTITY_FRAME_BIT)
    back = m2p(entry)
    agree = ("M2P agrees" if back == pfn else
             "M2P says %s" % ("nothing" if back is None else "%#x" % back))
    return "mfn %#x (%s)" % (entry, agree)


class P2mCommand(gdb.Command):
    """pvmm-p2m PFN: PFN's p2m entry and how its slot is backed."""

    def __init__(self):
        super().__init__("pvmm-p2m", gdb.COMMAND_DATA)

    def invoke(self, arg, from_tty):
        pfn = int(gdb.parse_and_eval(arg))
        size = int(gdb.parse_and_eval("p2m_size"))
        b = p2m_backing(pfn)
        print("pfn %#x: entry %#018x = %s" %
              (pfn, b["entry"], describe_entry(pfn, b["entry"])))
        if pfn >= size:
            print("  beyond p2m_size %#x: lookups do not read this slot" %
                  size)
        print("  L2 mfn %#x: %s%s" % (b["l2"], b["l2_kind"], "" if
              b["l3_is_p2m_l3"] else " (L4 slot is NOT p2m_shared.l3!)"))
        print("  L1 mfn %#x: %s" % (b["l1"], b["l1_kind"]))
        print("  leaf mfn %#x: %s, mapped %s" %
              (b["leaf"], b["leaf_kind"],
               "read-write" if b["leaf_writable"] else "read-only"))


WalkCommand()
P2mCommand()
