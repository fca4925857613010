#!/usr/bin/env python3
"""Host checks of tests/junit.py on small synthetic logs (make test's
junit-unit step).  Prints [ PASS ]/[ FAIL ] lines and "N passed, N failed".
"""

import contextlib
import io
import os
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import junit  # noqa: E402

# A dom0 console: a pass, a failure whose message needs escaping and holds
# a control character, a skip, then a panic inside a test.
DOM0 = """(XEN) Xen version 4.17
pvmm: booting as dom0 on Xen 4.17
[ RUN  ] a.passes
         a.passes took 12 ms
[ PASS ] a.passes
[ RUN  ] a.fails
p2m audit: pfn 0x5 <mfn> & more
         a.fails took 3 ms
[ FAIL ] a.fails: x.c:1: v < w & \x07bell\x1b[0m: v = 0x1 (1)
[ RUN  ] b.skips
         b.skips took 0 ms
[ SKIP ] b.skips: no ring
[ RUN  ] b.crashes
PANIC: unexpected #PF page fault (vector 14) at rip 0xffff
rip ffffffff80201234
Test result: ERROR
(XEN) d0 crashed
"""

# Host tests: no RUN lines, why on indented lines before the FAIL.
HOST = """[ PASS ] host.one
    tests/host/x.c:5: 1 != 2
[ FAIL ] host.two
1 passed, 1 failed
"""

# A step with result lines only and its wall time to share out.
ELF = """[ PASS ] elf.notes
[ PASS ] elf.aligned (checked)
2 passed, 0 failed
"""

# Every test passed, but the runner saw a panic after the result (exit 4).
LATE_PANIC = """[ RUN  ] c.one
         c.one took 5 ms
[ PASS ] c.one
1 passed, 0 failed, 0 skipped
Test result: SUCCESS
PANIC: after the result
run-dom0: the run said 'SUCCESS', but then: PANIC: after the result
"""

# Cut off between two tests: no summary, no test running (exit 6).
CUT = """[ RUN  ] d.one
         d.one took 1 ms
[ PASS ] d.one
run-dom0: no result line within 900s (log: x)
"""

# Timed out inside a test, no panic (exit 6).
SLOW = """[ RUN  ] e.slow
run-dom0: no result line within 900s (log: x)
"""

SERIAL = """(XEN) noise
PVMM-GUEST-START g1 memory=64 maxmem=64 extra=""
PVMM-GUEST-BEGIN g1
[ RUN  ] p.x
         p.x took 7 ms
(XEN) interleaved
[ PASS ] p.x
1 passed, 0 failed, 0 skipped
Test result: SUCCESS
PVMM-GUEST-END g1 rc=0 reason=poweroff domid=1 secs=3
PVMM-GUEST-BEGIN g2
[ RUN  ] p.y
[ FAIL ] p.y: broken
0 passed, 1 failed, 0 skipped
Test result: FAILURE
PVMM-GUEST-END g2 rc=0 reason=held domid=2 secs=4
PVMM-GUEST-BEGIN g3
[ RUN  ] p.x
[ PASS ] p.x
[ RUN  ] p.z
PANIC: guest fault
PVMM-GUEST-END g3 rc=0 reason=crash domid=3 secs=5
PVMM-GUEST-BEGIN g4
pvmm: unknown option 'frob'
0 passed, 0 failed, 0 skipped
Test result: ERROR
PVMM-GUEST-END g4 rc=0 reason=poweroff domid=4 secs=1
PVMM-XL-END status=0
"""

STEP_DOMU = """run-domu: g1: Test result: SUCCESS
run-domu: g1: PVMM-ACTION g1 save ok n=1 save_ms=1200 restore_ms=1100 file_kib=65000
run-domu: g1: pvmm: resumed n=1 new_domain=yes audit=ok memory=ok frames=16384
run-domu: g1: actions: ok (save)
run-domu: g2: Test result: FAILURE
run-domu: g2: dump-core: guest="P2M-DIGEST a" core="P2M-DIGEST a" match=yes
run-domu: g3: Test result: NONE (no result line; rc=0 reason=crash)
run-domu: g4: Test result: ERROR
run-domu: Test result: FAILURE after 30.0 s (4 guest(s), log: x)
domU: 4 passed, 3 failed, 0 skipped
"""

# What tests/run-all.sh (and run-domu.sh for the guests) count for each:
#   dom0-64M   no summary: its lines, 1 pass 2 fail (one crashed) 1 skip
#   host       1 pass 1 fail      elf      2 pass
#   late       1 pass, and exit 4 with nothing failed: 1 fail
#   cut        no summary: 1 pass, nothing failed: 1 fail
#   slow       no summary: the test it timed out in, 1 fail
#   domU       4 pass (g1, g1's actions, g3's p.x, the dump), 2 fail (g2,
#              g3's crash),
#              and g4's ERROR with nothing failed: 1 fail
#   selftest   no output at all (exit 6): 1 fail
TOTALS = (1 + 1 + 2 + 1 + 1 + 4, 2 + 1 + 1 + 1 + 1 + 3 + 1, 1)

results = []


def check(name, cond, why=""):
    results.append(bool(cond))
    print("[ %s ] junit.%s%s" % ("PASS" if cond else "FAIL", name,
                                 "" if cond else ": %s" % (why,)))


def build(tmp):
    files = {}
    for name, text in (("dom0", DOM0), ("host", HOST), ("elf", ELF),
                       ("late", LATE_PANIC), ("cut", CUT), ("slow", SLOW),
                       ("serial", SERIAL), ("domu", STEP_DOMU)):
        files[name] = os.path.join(tmp, name)
        if name in ("dom0", "serial"):      # as Xen's serial console ends them
            text = text.replace("\n", "\r\r\n")
        with open(files[name], "w", newline="") as f:
            f.write(text)
    manifest = os.path.join(tmp, "manifest")
    with open(manifest, "w") as f:
        f.write("host\t1\t2\t%s\t\n" % files["host"])
        f.write("elf\t0\t4\t%s\t\n" % files["elf"])
        f.write("dom0-64M\t4\t10\t%s\t\n" % files["dom0"])
        f.write("late\t4\t10\t%s\t\n" % files["late"])
        f.write("cut\t6\t900\t%s\t\n" % files["cut"])
        f.write("slow\t6\t900\t%s\t\n" % files["slow"])
        f.write("domU\t5\t30\t%s\t%s\n" % (files["domu"], files["serial"]))
        f.write("selftest\t6\t1\t%s\t\n" % os.path.join(tmp, "none"))
    out = os.path.join(tmp, "out.xml")
    junit.write(out, manifest)
    return out, files


def run_all_totals(tmp, entries):
    """The totals tests/run-all.sh's own count() and report() make of
    ENTRIES [(name, exit code, output file)]: its functions, run by bash."""
    with open(os.path.join(HERE, "run-all.sh")) as f:
        text = f.read().split("\n")
    funcs, inside = [], False
    for line in text:
        if line.startswith(("count() {", "report() {")):
            inside = True
        if inside:
            funcs.append(line)
        if inside and line == "}":
            inside = False
    script = "\n".join(["top=%s" % os.path.dirname(HERE),
                        "total_pass=0 total_fail=0 total_skip=0",
                        "failed_steps=()"] + funcs +
                       ["report %s %s %s >/dev/null 2>&1" % (n, out, rc)
                        for n, rc, out in entries] +
                       ["echo $total_pass $total_fail $total_skip"])
    r = subprocess.run(["bash", "-c", script], capture_output=True,
                       text=True)
    return tuple(int(x) for x in r.stdout.split())


def quietly(fn, *args):
    """(FN(*ARGS), what it printed)."""
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        ok = fn(*args)
    return ok, buf.getvalue()


def attrs(suite):
    return tuple(suite.get(k) for k in ("tests", "failures", "errors",
                                        "skipped"))


def awk_counts(path):
    """tests/count-results.awk on PATH, as run-all.sh runs it."""
    r = subprocess.run(["awk", "-f", os.path.join(HERE, "count-results.awk"),
                        path], capture_output=True, text=True)
    return tuple(int(x) for x in r.stdout.split())


def xml_counts(suite):
    """Passes, failures and errors, skips of SUITE's tests (not run.result:
    a failed step's own error, which run-all.sh adds outside the awk)."""
    cases = [c for c in suite.findall("testcase")
             if not c.get("classname").endswith(".run")]
    fail = sum(1 for c in cases if c.find("failure") is not None or
               c.find("error") is not None)
    skip = sum(1 for c in cases if c.find("skipped") is not None)
    return (len(cases) - fail - skip, fail, skip)


def main():
    with tempfile.TemporaryDirectory() as tmp:
        out, files = build(tmp)
        root = ET.parse(out).getroot()
        suites = {s.get("name"): s for s in root.iter("testsuite")}
        check("one_suite_per_step_and_guest",
              sorted(suites) == ["cut", "dom0-64M", "domU-g1", "domU-g2",
                                 "domU-g3", "domU-g4", "elf", "host", "late",
                                 "selftest", "slow"], sorted(suites))

        d = suites["dom0-64M"]
        check("counts_of_a_dom0_run", attrs(d) == ("4", "1", "1", "1"),
              d.attrib)
        fail = d.find("testcase[@name='fails']/failure")
        check("failure_message_kept_with_control_chars_replaced",
              fail is not None and fail.get("message") ==
              "x.c:1: v < w & \\x07bell\\x1b[0m: v = 0x1 (1)",
              fail is not None and fail.get("message"))
        check("failure_text_has_the_tests_output",
              fail is not None and "p2m audit: pfn 0x5 <mfn> & more" in
              fail.text)
        with open(out, encoding="utf-8") as f:
            raw = f.read()
        check("xml_escapes_and_holds_no_control_chars",
              "v &lt; w &amp;" in raw and
              not any(ord(ch) < 0x20 and ch not in "\t\n" for ch in raw))
        crash = d.find("testcase[@name='crashes']/error")
        check("crashed_test_is_an_error_with_the_panic",
              crash is not None and crash.get("message").startswith("PANIC:")
              and "0xffff\nrip ffffffff80201234\n" in crash.text,
              crash is not None and crash.get("message"))
        check("crashed_test_is_the_only_error_of_its_run",
              d.find("testcase[@name='result']") is None)
        passed = d.find("testcase[@name='passes']")
        check("duration_from_took_line", passed.get("time") == "0.012",
              passed.get("time"))
        check("classname_is_step_and_group",
              passed.get("classname") == "dom0-64M.a",
              passed.get("classname"))
        skip = d.find("testcase[@name='skips']/skipped")
        check("skip_reason_kept",
              skip is not None and skip.get("message") == "no ring")

        h = suites["host"].find("testcase[@name='two']/failure")
        check("host_failure_detail_from_lines_above",
              h is not None and h.get("message") == "tests/host/x.c:5: 1 != 2",
              h is not None and h.get("message"))
        elf = suites["elf"].findall("testcase")
        check("step_without_durations_shares_its_wall_time",
              [c.get("time") for c in elf] == ["2.000", "2.000"] and
              elf[1].get("name") == "aligned",
              [(c.get("name"), c.get("time")) for c in elf])

        late = suites["late"].find("testcase[@name='result']/error")
        check("failed_step_without_a_failure_is_an_error",
              late is not None and "exit 4" in late.get("message") and
              "PANIC: after the result" in late.get("message") and
              attrs(suites["late"]) == ("2", "0", "1", "0"),
              late is not None and late.get("message"))
        cut = suites["cut"].find("testcase[@name='result']/error")
        check("run_cut_off_between_tests_is_an_error",
              cut is not None and "no result counts" in cut.get("message")
              and "no result line within" in cut.get("message"),
              cut is not None and cut.get("message"))
        slow = suites["slow"]
        check("test_that_timed_out_is_an_error_without_a_panic",
              attrs(slow) == ("1", "0", "1", "0") and
              slow.find("testcase/error").get("message").startswith(
                  "no result line: the run crashed or timed out"),
              slow.attrib)
        sel = suites["selftest"]
        check("a_step_that_said_nothing_is_an_error",
              attrs(sel) == ("1", "0", "1", "0"), sel.attrib)

        check("guest_suites_from_the_serial_log",
              attrs(suites["domU-g1"]) == ("2", "0", "0", "0") and
              attrs(suites["domU-g2"]) == ("2", "1", "0", "0"),
              [suites[g].attrib for g in ("domU-g1", "domU-g2")])
        check("guest_time_from_dom0_marker",
              suites["domU-g2"].get("time") == "4.000" and
              suites["domU-g1"].find("testcase").get("time") == "0.007")
        dump = suites["domU-g2"].find(
            "testcase[@name='dump_core_matches_guest_digest']")
        check("dump_core_check_is_a_testcase_of_its_guest",
              dump is not None and dump.find("failure") is None and
              dump.get("classname") == "domU-g2.dom0")
        acts = suites["domU-g1"].find(
            "testcase[@name='actions_and_resumes']")
        check("save_restore_actions_are_a_testcase_of_their_guest",
              acts is not None and acts.find("failure") is None and
              acts.get("classname") == "domU-g1.dom0")
        g3 = suites["domU-g3"]
        g3err = g3.find("testcase[@name='z']/error")
        check("crashed_guest_keeps_its_passes_and_the_panic",
              attrs(g3) == ("2", "0", "1", "0") and g3err is not None and
              g3err.get("message") == "PANIC: guest fault", g3.attrib)
        g4 = suites["domU-g4"].find("testcase[@name='result']/error")
        check("guest_that_ended_in_error_is_an_error",
              g4 is not None and "Test result: ERROR" in g4.get("message")
              and "unknown option 'frob'" in g4.get("message"),
              g4 is not None and g4.get("message"))
        check("no_domU_step_suite_when_a_guest_failed", "domU" not in suites)

        for name in ("dom0", "cut", "slow"):
            s = suites["dom0-64M" if name == "dom0" else name]
            check("agrees_with_count_results_awk_on_" + name,
                  awk_counts(files[name]) == xml_counts(s),
                  (awk_counts(files[name]), xml_counts(s)))
        g3_console = os.path.join(tmp, "g3")
        with open(g3_console, "w") as f:
            f.write(SERIAL.split("PVMM-GUEST-BEGIN g3\n")[1]
                    .split("PVMM-GUEST-END g3")[0])
        check("agrees_with_count_results_awk_on_a_crashed_guest",
              awk_counts(g3_console) == xml_counts(g3),
              (awk_counts(g3_console), xml_counts(g3)))

        check("root_carries_the_totals",
              (root.get("tests"), root.get("failures"), root.get("errors"),
               root.get("skipped")) == (str(sum(TOTALS)), "3", "7", "1"),
              root.attrib)
        bash = run_all_totals(tmp, [
            ("host", 1, files["host"]), ("elf", 0, files["elf"]),
            ("dom0-64M", 4, files["dom0"]), ("late", 4, files["late"]),
            ("cut", 6, files["cut"]), ("slow", 6, files["slow"]),
            ("domU", 5, files["domu"]),
            ("selftest", 6, os.path.join(tmp, "none"))])
        check("run_all_counts_as_the_xml_does", bash == TOTALS,
              (bash, TOTALS))
        check("check_accepts_the_right_totals", junit.check(out, *TOTALS))
        ok, said = quietly(junit.check, out, TOTALS[0] + 1, *TOTALS[1:])
        check("check_rejects_wrong_totals",
              not ok and "make test says 11, 10, 1" in said, said)

        tampered = os.path.join(tmp, "tampered.xml")
        tree = ET.parse(out)
        tree.getroot().find("testsuite").set("tests", "99")
        tree.write(tampered)
        ok, said = quietly(junit.check, tampered, *TOTALS)
        check("check_rejects_suite_counts_that_disagree",
              not ok and "tests=99 but 2" in said, said)
        tree = ET.parse(out)
        case = tree.getroot().find("testsuite/testcase")
        ET.SubElement(case, "skipped")
        ET.SubElement(case, "failure")
        tree.write(tampered)
        ok, said = quietly(junit.check, tampered, *TOTALS)
        check("check_rejects_a_case_both_failed_and_skipped",
              not ok and "host.host.one is malformed" in said, said)

        with open(out, "a") as f:
            f.write("<broken")
        rc, said = quietly(junit.main, ["junit.py", "check", out] +
                           [str(n) for n in TOTALS])
        check("check_rejects_malformed_xml",
              rc != 0 and "is not valid" in said, said)
        rc, said = quietly(junit.main, ["junit.py", "check",
                                        os.path.join(tmp, "nope"),
                                        "0", "0", "0"])
        check("check_rejects_a_missing_file", rc != 0, said)

        every = os.path.join(tmp, "every")
        with open(every, "w", encoding="utf-8") as f:
            f.write("[ FAIL ] z.all: " +
                    "".join(chr(c) for c in range(1, 32) if c != 10) +
                    "\x7f\ufffe\uffff end\n0 passed, 1 failed\n")
        manifest = os.path.join(tmp, "manifest2")
        with open(manifest, "w") as f:
            f.write("every\t5\t0\t%s\t\n" % every)
        out2 = os.path.join(tmp, "every.xml")
        junit.write(out2, manifest)
        check("every_control_character_still_parses",
              junit.check(out2, 0, 1, 0))
    print("%d passed, %d failed" % (results.count(True),
                                    results.count(False)))
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
