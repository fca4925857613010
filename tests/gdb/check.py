# What `make test` checks through gdb (tests/run-gdb.sh --check): that a
# breakpoint in guest code stops there with the arguments readable, and
# that the commands of pvmm.py read p2m entries that agree with the
# hardware's own translation and with Xen's M2P.
#
# Run with the CPU stopped at the first call of p2m_set.  Prints one
# "[ PASS ] gdb.NAME" or "[ FAIL ] gdb.NAME: why" line per check.

import gdb

import pvmm

VIRT_BASE = 0xFFFFFFFF80000000
P2M_FRAME_LIST_PFNS = 1 << 27
SIF_INITDOMAIN = 1 << 0
results = []


def check(name, fn):
    try:
        why = fn()
    except (gdb.error, gdb.MemoryError, pvmm.PvmmError) as e:
        why = "gdb: %s" % e
    results.append(why is None)
    if why is None:
        print("[ PASS ] gdb.%s" % name)
    else:
        print("[ FAIL ] gdb.%s: %s" % (name, why))


def function_frame():
    """The real function's frame: at an entry instruction the compiler may
    have scheduled code of a function inlined into it (p2m_set's argument
    check), and gdb then names the inline frame first."""
    frame = gdb.newest_frame()
    while frame.type() == gdb.INLINE_FRAME and frame.older() is not None:
        frame = frame.older()
    frame.select()
    return frame


def stopped_in_p2m_set():
    name = function_frame().name()
    if name != "p2m_set":
        return "stopped in %s, not p2m_set" % name
    return None


def pfn_argument_readable():
    # At the entry instruction the ABI puts the argument in rdi: gdb's
    # reading of the debug info must say the same.
    function_frame()
    pfn = int(gdb.parse_and_eval("pfn.pfn"))
    rdi = int(gdb.parse_and_eval("(unsigned long)$rdi"))
    if pfn != rdi:
        return "pfn reads %#x but rdi holds %#x" % (pfn, rdi)
    print("         p2m_set(pfn %#x, entry %#x)" %
          (pfn, int(gdb.parse_and_eval("entry"))))
    return None


def image_page_entry_is_the_mapped_frame():
    # The p2m entry of a page of the kernel image must be the very frame
    # the MMU translates that page to, and Xen's M2P must map it back.
    va = int(gdb.parse_and_eval("(unsigned long)&p2m_shared"))
    pfn = (va - VIRT_BASE) >> pvmm.PAGE_SHIFT
    gdb.execute("pvmm-walk %d" % va)
    steps = pvmm.walk(va)
    hw_mfn = (steps[-1][3] & pvmm.PTE_ADDR_MASK) >> pvmm.PAGE_SHIFT
    b = pvmm.p2m_backing(pfn)
    gdb.execute("pvmm-p2m %d" % pfn)
    if b["entry"] != hw_mfn:
        return "p2m[%#x] = %#x, but the MMU maps its page to mfn %#x" % (
            pfn, b["entry"], hw_mfn)
    if pvmm.m2p(hw_mfn) != pfn:
        return "M2P[%#x] = %s, not pfn %#x" % (hw_mfn, pvmm.m2p(hw_mfn), pfn)
    if b["leaf_kind"] != "private leaf" or not b["leaf_writable"]:
        return "a populated pfn's leaf is %s, %s" % (
            b["leaf_kind"], "RW" if b["leaf_writable"] else "RO")
    # The same slot read through the kernel's virtual mapping.
    virt = pvmm.read_u64_virt(pvmm.P2M_BASE + pfn * 8)
    if virt != b["entry"]:
        return "p2m[%#x] reads %#x virtually, %#x in machine memory" % (
            pfn, virt, b["entry"])
    return None


def far_pfn_backed_by_shared_pages():
    # Nothing is populated past 512 GiB at the first p2m_set: the walk must
    # end in the shared, read-only pages all the way down, of the kind
    # nobody-wrote means: identity for dom0 (its host map calls everything
    # past RAM MMIO), missing for a domU.  Decided from start_info's flags,
    # not from the kernel's own answer.
    pfn = P2M_FRAME_LIST_PFNS + 5
    b = pvmm.p2m_backing(pfn)
    gdb.execute("pvmm-p2m %d" % pfn)
    got = (b["l2_kind"], b["l1_kind"], b["leaf_kind"], b["leaf_writable"],
           b["entry"])
    dom0 = int(gdb.parse_and_eval("xen_start_info->flags")) & SIF_INITDOMAIN
    kind = "identity" if dom0 else "missing"
    want = ("shared %s_pmd" % kind, "shared %s_pte" % kind, "p2m_" + kind,
            False, pvmm.INVALID_P2M_ENTRY)
    if got != want:
        return "pfn %#x: got %s, want %s" % (pfn, got, want)
    return None


def dom0_hole_pfn_is_identity():
    flags = int(gdb.parse_and_eval("xen_start_info->flags"))
    if not flags & SIF_INITDOMAIN:
        print("         (a domU has no E820 identity range: not checked)")
        return None
    pfn = 0xA0                  # 640 KiB: the legacy VGA/BIOS hole
    entry = pvmm.p2m_backing(pfn)["entry"]
    if entry != pfn | pvmm.IDENTITY_FRAME_BIT:
        return "p2m[%#x] = %#x, want IDENTITY_FRAME(%#x)" % (pfn, entry, pfn)
    return None


check("stopped_in_p2m_set", stopped_in_p2m_set)
check("pfn_argument_readable", pfn_argument_readable)
check("image_page_entry_is_the_mapped_frame",
      image_page_entry_is_the_mapped_frame)
check("far_pfn_backed_by_shared_pages", far_pfn_backed_by_shared_pages)
check("dom0_hole_pfn_is_identity", dom0_hole_pfn_is_identity)
