#!/usr/bin/env python3
"""Host checks of tests/junit.py on small synthetic logs (make test's
junit-unit step).  Prints [ PASS ]/[ FAIL ] lines and "N passed, N failed".
"""

import os
import sys
import tempfile
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import junit  # noqa: E402

DOM0 = """pvmm: booting as dom0 on Xen 4.17
[ RUN  ] a.passes
         a.passes took 12 ms
[ PASS ] a.passes
[ RUN  ] a.fails
         a.fails took 3 ms
[ FAIL ] a.fails: x.c:1: v < w & \x07bell: v = 0x1 (1)
[ RUN  ] b.skips
         b.skips took 0 ms
[ SKIP ] b.skips: no ring
[ RUN  ] b.crashes
PANIC: unexpected #PF page fault (vector 14) at rip 0xffff
Test result: ERROR
"""

HOST = """[ PASS ] host.one
    tests/host/x.c:5: 1 != 2
[ FAIL ] host.two
1 passed, 1 failed
"""

SERIAL = """(XEN) noise
PVMM-GUEST-BEGIN g1
[ RUN  ] p.x
[ PASS ] p.x
1 passed, 0 failed, 0 skipped
PVMM-GUEST-END g1 rc=0 reason=poweroff domid=1 secs=3
PVMM-GUEST-BEGIN g2
[ RUN  ] p.y
[ FAIL ] p.y: broken
0 passed, 1 failed, 0 skipped
PVMM-GUEST-END g2 rc=0 reason=held domid=2 secs=3
"""

STEP_DOMU = """run-domu: g1: Test result: SUCCESS
run-domu: g2: Test result: FAILURE
run-domu: g2: dump-core: guest="P2M-DIGEST a" core="P2M-DIGEST a" match=yes
domU: 2 passed, 1 failed, 0 skipped
"""

results = []


def check(name, cond, why=""):
    results.append(bool(cond))
    print("[ %s ] junit.%s%s" % ("PASS" if cond else "FAIL", name,
                                 "" if cond else ": " + why))


def build(tmp):
    files = {}
    for name, text in (("dom0", DOM0), ("host", HOST), ("serial", SERIAL),
                       ("domu", STEP_DOMU)):
        files[name] = os.path.join(tmp, name)
        with open(files[name], "w") as f:
            f.write(text)
    manifest = os.path.join(tmp, "manifest")
    with open(manifest, "w") as f:
        f.write("dom0-64M\t4\t10\t%s\t\n" % files["dom0"])
        f.write("host\t1\t2\t%s\t\n" % files["host"])
        f.write("domU\t5\t30\t%s\t%s\n" % (files["domu"], files["serial"]))
        f.write("selftest\t6\t1\t%s\t\n" % os.path.join(tmp, "none"))
    out = os.path.join(tmp, "out.xml")
    junit.write(out, manifest)
    return out


def main():
    with tempfile.TemporaryDirectory() as tmp:
        out = build(tmp)
        root = ET.parse(out).getroot()
        suites = {s.get("name"): s for s in root.iter("testsuite")}
        check("one_suite_per_step_and_guest",
              sorted(suites) == ["dom0-64M", "domU", "domU-g1", "domU-g2",
                                 "host", "selftest"], sorted(suites))
        d = suites["dom0-64M"]
        check("counts_of_a_dom0_run",
              (d.get("tests"), d.get("failures"), d.get("errors"),
               d.get("skipped")) == ("4", "1", "1", "1"), d.attrib)
        fail = d.find("testcase[@name='fails']/failure")
        check("failure_message_kept_and_escaped",
              fail is not None and "v < w &" in fail.get("message") and
              "\x07" not in fail.get("message"), ET.tostring(d)[:200])
        crash = d.find("testcase[@name='crashes']/error")
        check("crashed_test_is_an_error_with_the_panic",
              crash is not None and crash.get("message").startswith("PANIC:"),
              crash is not None and crash.get("message"))
        passed = d.find("testcase[@name='passes']")
        check("duration_from_took_line", passed.get("time") == "0.012",
              passed.get("time"))
        skip = d.find("testcase[@name='skips']/skipped")
        check("skip_reason_kept",
              skip is not None and skip.get("message") == "no ring")
        h = suites["host"].find("testcase[@name='two']/failure")
        check("host_failure_detail_from_lines_above",
              h is not None and "1 != 2" in h.get("message"))
        check("a_step_that_said_nothing_is_an_error",
              suites["selftest"].get("errors") == "1")
        check("guest_suites_from_the_serial_log",
              suites["domU-g2"].get("failures") == "1" and
              suites["domU-g1"].get("tests") == "1")
        check("dump_core_check_is_a_testcase",
              suites["domU"].find("testcase/failure") is None and
              suites["domU"].get("tests") == "1")
        # passes: 1+1+1+1(dump) = 4; fails: 1+1(crash)+1(host)+1(g2)+1 = 5
        check("check_accepts_the_right_totals",
              junit.check(out, 4, 5, 1))
        check("check_rejects_wrong_totals", not junit.check(out, 5, 5, 1))
        with open(out, "a") as f:
            f.write("<broken")
        check("check_rejects_malformed_xml",
              junit.main(["junit.py", "check", out, "4", "5", "1"]) != 0)
    print("%d passed, %d failed" % (results.count(True),
                                    results.count(False)))
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
