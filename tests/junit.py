#!/usr/bin/env python3
"""JUnit XML from make test's step logs, for CI systems (Jenkins, GitLab).

    junit.py write OUT.xml MANIFEST    one <testsuite> per step (and per
                                       domU guest), one <testcase> per test
    junit.py check OUT.xml PASSED FAILED SKIPPED
                                       parse OUT.xml back and check it: every
                                       suite's counts equal its children,
                                       and the sums equal make test's total

MANIFEST has a line per step, tab-separated: name, exit code, seconds,
the step's output file, and (for the domU step) the serial log.

Each step speaks the protocol of docs/testing.md: "[ RUN  ] name",
"[ PASS ] name", "[ FAIL ] name: why", "[ SKIP ] name: why", optional
"         name took N ms" lines, and a "N passed, N failed" line.  A test
that has a RUN line but no result (the guest panicked, crashed or timed
out in it) becomes an <error> carrying the PANIC line, so nothing is
lost; a step that reported nothing at all becomes one <error> case.

Only the Python standard library: xml.etree writes and reads the file, so
escaping is right; control characters from a console are replaced.
"""

import re
import sys
import xml.etree.ElementTree as ET

RESULT = re.compile(r"^\[ (PASS|FAIL|SKIP) \] (\S+?)(?:: (.*)| \(.*\))?$")
RUN = re.compile(r"^\[ RUN  \] (\S+)$")
TOOK = re.compile(r"^\s+(\S+) took (\d+) ms$")
COUNTS = re.compile(r"^(?:[\w-]+: )?(\d+) passed, (\d+) failed(?:, (\d+) skipped)?$")
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean(text):
    return CONTROL.sub("?", text.replace("\r", ""))


class Case:
    def __init__(self, name):
        self.name = name
        self.status = None          # pass, fail, skip, error
        self.message = ""
        self.ms = 0


def parse_cases(lines):
    """Test cases, in order, from one console or step output."""
    cases, by_name, running, panic, detail = [], {}, None, "", []
    for raw in lines:
        line = clean(raw)
        if line.startswith("PANIC:"):
            panic = line
        m = RUN.match(line)
        if m:
            running = Case(m.group(1))
            cases.append(running)
            by_name[running.name] = running
            continue
        m = TOOK.match(line)
        if m and m.group(1) in by_name:
            by_name[m.group(1)].ms = int(m.group(2))
            continue
        m = RESULT.match(line)
        if m:
            status, name, why = m.group(1), m.group(2), m.group(3) or ""
            case = by_name.get(name)
            if case is None or case.status is not None:
                case = Case(name)
                cases.append(case)
                by_name[name] = case
            case.status = {"PASS": "pass", "FAIL": "fail",
                           "SKIP": "skip"}[status]
            case.message = why or " ".join(detail)
            running, detail = None, []
            continue
        if line.startswith("    ") and running is None:
            detail.append(line.strip())     # host tests: why, before FAIL
    for case in cases:
        if case.status is None:
            case.status = "error"
            case.message = panic or "no result line: the run crashed or " \
                                    "timed out in this test"
    return cases


def guest_sections(serial_lines):
    """{guest name: its console lines} from the domU serial log."""
    sections, current = {}, None
    for raw in serial_lines:
        line = clean(raw)
        m = re.search(r"PVMM-GUEST-BEGIN (\S+)", line)
        if m:
            current = m.group(1)
            sections[current] = []
            continue
        if re.search(r"PVMM-GUEST-END ", line):
            current = None
            continue
        if current is not None:
            sections[current].append(line)
    return sections


def read_lines(path):
    try:
        with open(path, errors="replace") as f:
            return f.read().splitlines()
    except OSError:
        return []


def suite(root, name, cases, seconds, rc, output_tail):
    if not cases:
        err = Case(name + ".step")
        err.status = "error"
        err.message = "the step reported no tests (exit %s)" % rc
        cases = [err]
    counts = {s: sum(c.status == s for c in cases)
              for s in ("pass", "fail", "skip", "error")}
    el = ET.SubElement(root, "testsuite", {
        "name": name, "tests": str(len(cases)),
        "failures": str(counts["fail"]), "errors": str(counts["error"]),
        "skipped": str(counts["skip"]), "time": "%.3f" % seconds,
    })
    for case in cases:
        group, _, rest = case.name.partition(".")
        tc = ET.SubElement(el, "testcase", {
            "classname": "%s.%s" % (name, group), "name": rest or group,
            "time": "%.3f" % (case.ms / 1000.0),
        })
        if case.status == "fail":
            ET.SubElement(tc, "failure", {"message": case.message}).text = \
                case.message
        elif case.status == "error":
            ET.SubElement(tc, "error", {"message": case.message}).text = \
                "\n".join(output_tail)
        elif case.status == "skip":
            ET.SubElement(tc, "skipped", {"message": case.message})


def domu_extra_cases(step_lines):
    """dump-core and xl-list checks that run-domu.sh counts itself."""
    cases = []
    for line in step_lines:
        m = re.match(r"^run-domu: (\S+): end: (.*)$", line)
        if m:
            c = Case("%s.ended_as_asked" % m.group(1))
            c.status, c.message = "fail", m.group(2)
            cases.append(c)
        m = re.match(r"^run-domu: (\S+): dump-core: (.*)$", line)
        if m:
            c = Case("%s.dump_core_matches_guest_digest" % m.group(1))
            c.status = "pass" if m.group(2).endswith("match=yes") else "fail"
            c.message = "" if c.status == "pass" else m.group(2)
            cases.append(c)
        m = re.match(r"^run-domu: (\S+): (maxmem .*never ballooned up|"
                     r"xl list saw .*)$", line)
        if m:
            c = Case("%s.xl_list_sees_balloon" % m.group(1))
            seen = re.search(r"max=(\d+)", m.group(2))
            mem = re.search(r"\(memory (\d+), maxmem (\d+)\)", m.group(2))
            ok = bool(seen and mem and int(seen.group(1)) >
                      (int(mem.group(1)) + int(mem.group(2))) // 2)
            c.status = "pass" if ok else "fail"
            c.message = "" if ok else m.group(2)
            cases.append(c)
    return cases


def write_domu(root, name, rc, seconds, step_lines, serial_lines):
    """A suite per guest, and one for the checks dom0 made of them."""
    sections = guest_sections(serial_lines)
    named = [m.group(1) for m in (re.match(r"^run-domu: (\S+): Test result:",
                                           l) for l in step_lines) if m]
    for guest in named:
        console = sections.get(guest, [])
        suite(root, "%s-%s" % (name, guest), parse_cases(console), 0.0, rc,
              console[-20:] or ["no console: dom0 never reported the guest"])
    extra = domu_extra_cases(step_lines)
    if extra or not named:
        suite(root, name, extra, seconds, rc,
              [clean(l) for l in step_lines[-20:]])


def write(out, manifest):
    root = ET.Element("testsuites", {"name": "pvmm make test"})
    for entry in read_lines(manifest):
        name, rc, seconds, output, *serial = entry.split("\t")
        lines = read_lines(output)
        tail = [clean(l) for l in lines[-20:]]
        if serial and serial[0]:
            write_domu(root, name, rc, float(seconds), lines,
                       read_lines(serial[0]))
            continue
        suite(root, name, parse_cases(lines), float(seconds), rc, tail)
    ET.indent(root)
    ET.ElementTree(root).write(out, encoding="utf-8", xml_declaration=True)


def check(path, passed, failed, skipped):
    root = ET.parse(path).getroot()     # raises on malformed XML
    totals = {"pass": 0, "fail": 0, "skip": 0}
    problems = []
    for s in root.iter("testsuite"):
        cases = s.findall("testcase")
        n = {k: sum(1 for c in cases if c.find(k) is not None)
             for k in ("failure", "error", "skipped")}
        for attr, want in (("tests", len(cases)), ("failures", n["failure"]),
                           ("errors", n["error"]), ("skipped", n["skipped"])):
            if s.get(attr) != str(want):
                problems.append("suite %s: %s=%s but %d such testcases" %
                                (s.get("name"), attr, s.get(attr), want))
        totals["fail"] += n["failure"] + n["error"]
        totals["skip"] += n["skipped"]
        totals["pass"] += len(cases) - n["failure"] - n["error"] - \
            n["skipped"]
    want = {"pass": passed, "fail": failed, "skip": skipped}
    if totals != want:
        problems.append("testcases say %(pass)d passed, %(fail)d failed, "
                        "%(skip)d skipped" % totals +
                        "; make test says %(pass)d, %(fail)d, %(skip)d" % want)
    for p in problems:
        print("junit: " + p)
    return not problems


def main(argv):
    if len(argv) == 4 and argv[1] == "write":
        write(argv[2], argv[3])
        return 0
    if len(argv) == 6 and argv[1] == "check":
        try:
            ok = check(argv[2], *map(int, argv[3:6]))
        except (ET.ParseError, OSError, ValueError) as e:
            print("junit: %s is not valid: %s" % (argv[2], e))
            return 1
        return 0 if ok else 1
    print(__doc__.strip().split("\n\n")[1], file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
