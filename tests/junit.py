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
"         name took N ms" lines, and a "N passed, N failed" summary.  A
test that has a RUN line but no result (the guest panicked, crashed or
timed out in it) becomes an <error> carrying the PANIC line, so nothing
is lost.  A step that failed (a non-zero exit, or no summary) without any
failing or crashed test gets one <error> testcase, run.result, that says
how it ended.  tests/run-all.sh counts the same way (a run without a
summary is counted from its result lines by tests/count-results.awk, and
a failed step without a failure counts one), so the file's sums equal
make test's "total:" line.

Only the Python standard library: xml.etree writes and reads the file, so
escaping is right; control characters from a console are replaced by a
visible \\xNN.
"""

import os
import re
import sys
import xml.etree.ElementTree as ET

RUN = re.compile(r"^\[ RUN  \] (\S+)")
RESULT = re.compile(r"^\[ (PASS|FAIL|SKIP) \] (\S+)(.*)$")
TOOK = re.compile(r"^\s+(\S+) took (\d+) ms$")
# The summary as tests/run-all.sh's count() finds it.
SUMMARY = re.compile(r"^(?:[A-Za-z0-9_-]+: )?[0-9]+ passed, [0-9]+ failed")
# What XML 1.0 cannot hold (tab and newline can; \r is dropped before).
CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")
GUEST_RESULT = re.compile(r"^run-domu: (\S+): Test result: (\S+)(.*)$")
STATUS = {"PASS": "pass", "FAIL": "fail", "SKIP": "skip"}
BAD = ("fail", "error")
BODY_LINES = 60             # a failure's console output kept, at most
TAIL_LINES = 40             # a step error's last lines of output


def visible(m):
    c = ord(m.group())
    return "\\x%02x" % c if c < 0x100 else "\\u%04x" % c


def clean(text):
    return CONTROL.sub(visible, text.replace("\r", ""))


class Case:
    def __init__(self, name, status=None, message=""):
        self.name = name
        self.status = status        # pass, fail, skip, error
        self.message = message
        self.body = []              # its output: what it printed
        self.ms = None              # from its "took" line


def parse_cases(lines):
    """Test cases, in order, from one console or step output (clean)."""
    cases, by_name, running, since = [], {}, None, []
    for line in lines:
        m = RUN.match(line)
        if m:
            running = Case(m.group(1))
            cases.append(running)
            by_name[running.name] = running
            since = []
            continue
        m = TOOK.match(line)
        if m and m.group(1) in by_name:
            by_name[m.group(1)].ms = int(m.group(2))
            continue
        m = RESULT.match(line)
        if m:
            status, name, rest = m.group(1), m.group(2), m.group(3)
            if name.endswith(":"):              # "[ FAIL ] name: why"
                name, rest = name[:-1], ":" + rest
            case = by_name.get(name)
            if case is None or case.status is not None:
                case = Case(name)               # a result without RUN
                cases.append(case)
                by_name[name] = case
            case.status = STATUS[status]
            why = rest[1:].strip() if rest.startswith(":") else ""
            # Host tests print why on indented lines before "[ FAIL ] name".
            detail = [l.strip() for l in since if l.startswith("    ")]
            case.message = why or " / ".join(detail)
            case.body = since[-BODY_LINES:]
            running, since = None, []
            continue
        since.append(line)
    for case in cases:
        if case.status is None:
            case.status = "error"
            case.message = "no result line: the run crashed or timed out " \
                           "in this test"
    if running is not None and running.status == "error":
        # The test the run died in: the panic it printed, and the rest.
        panics = [l for l in since if l.startswith("PANIC:")]
        running.message = panics[0] if panics else running.message
        running.body = since[-BODY_LINES:]
    return cases


def has_summary(lines):
    return any(SUMMARY.match(l) for l in lines)


def how_it_ended(lines):
    """The lines that say why a run went wrong: a panic, the harness's own
    complaint, the runner's verdict."""
    said = []
    for pattern in (r"^PANIC:", r"^pvmm: (?!booting )", r"^run-[\w-]+: "):
        found = [l for l in lines if re.match(pattern, l)]
        if found:
            said.append(found[-1])
    return "; ".join(said)


def run_error(why, lines):
    said = how_it_ended(lines)
    case = Case("run.result", "error", why + (": " + said if said else ""))
    case.body = lines[-TAIL_LINES:] or ["(no output)"]
    return case


def step_suite(name, rc, seconds, lines):
    """The suite of an ordinary step: its own output's tests."""
    cases = parse_cases(lines)
    if not any(c.status in BAD for c in cases):
        if not has_summary(lines):
            cases.append(run_error("no result counts in its output (exit %s)"
                                   % rc, lines))
        elif rc != "0":
            cases.append(run_error("exit %s with no failing test" % rc,
                                   lines))
    return (name, seconds, cases)


def guest_sections(serial_lines):
    """({guest: console lines}, {guest: seconds}) from the domU serial log:
    the lines between dom0's PVMM-GUEST-BEGIN and PVMM-GUEST-END markers,
    as tests/xl/run-domu.sh splits them."""
    sections, seconds, current = {}, {}, None
    for line in serial_lines:
        m = re.search(r"PVMM-GUEST-BEGIN (\S+)", line)
        if m:
            current = m.group(1)
            sections[current] = []
            continue
        m = re.search(r"PVMM-GUEST-END (\S+) .*\bsecs=(\d+)", line) or \
            re.search(r"PVMM-GUEST-END (\S+)()", line)
        if m:
            if m.group(2):
                seconds[m.group(1)] = float(m.group(2))
            if m.group(1) == current:
                current = None
            continue
        if current is not None and not line.startswith("(XEN)"):
            sections[current].append(line)
    return sections, seconds


def domu_extra_cases(step_lines):
    """{guest: [cases]}: the checks dom0 made of each guest (its end, xl
    dump-core, xl list), which tests/xl/run-domu.sh counts itself."""
    extra = {}
    for line in step_lines:
        m = re.match(r"^run-domu: (\S+): end: (.*)$", line)
        if m:
            extra.setdefault(m.group(1), []).append(
                Case("dom0.ended_as_asked", "fail", m.group(2)))
        m = re.match(r"^run-domu: (\S+): dump-core: (.*)$", line)
        if m:
            ok = m.group(2).endswith("match=yes")
            extra.setdefault(m.group(1), []).append(
                Case("dom0.dump_core_matches_guest_digest",
                     "pass" if ok else "fail", "" if ok else m.group(2)))
        m = re.match(r"^run-domu: (\S+): actions: (ok|FAIL)(.*)$", line)
        if m:
            ok = m.group(2) == "ok"
            extra.setdefault(m.group(1), []).append(
                Case("dom0.actions_and_resumes", "pass" if ok else "fail",
                     "" if ok else m.group(2) + m.group(3)))
        m = re.match(r"^run-domu: (\S+): (maxmem .*never ballooned up|"
                     r"xl list saw .*)$", line)
        if m:
            seen = re.search(r"max=(\d+) MiB", m.group(2))
            mem = re.search(r"\(memory (\d+), maxmem (\d+)\)", m.group(2))
            ok = bool(seen and mem and int(seen.group(1)) >
                      (int(mem.group(1)) + int(mem.group(2))) // 2)
            extra.setdefault(m.group(1), []).append(
                Case("dom0.xl_list_sees_balloon",
                     "pass" if ok else "fail", "" if ok else m.group(2)))
    return extra


def domu_suites(name, rc, seconds, step_lines, serial_lines):
    """A suite per guest (its console's tests and dom0's checks of it),
    and one for the step itself if it failed with nothing failing in
    them."""
    sections, guest_seconds = guest_sections(serial_lines)
    extra = domu_extra_cases(step_lines)
    suites = []
    for line in step_lines:
        m = GUEST_RESULT.match(line)
        if not m:
            continue
        guest, result, rest = m.groups()
        console = sections.get(guest, [])
        cases = parse_cases(console) + extra.pop(guest, [])
        # As run-domu.sh: a guest that ended in ERROR or without a result
        # and had nothing failing counts one failure.
        if result not in ("SUCCESS", "SKIP", "FAILURE") and \
           not any(c.status in BAD for c in cases):
            cases.append(run_error("Test result: %s%s" % (result, rest),
                                   console))
        suites.append(("%s-%s" % (name, guest),
                       guest_seconds.get(guest, 0.0), cases))
    step_cases = [c for cases in extra.values() for c in cases]
    everything = step_cases + [c for _, _, cases in suites for c in cases]
    if not any(c.status in BAD for c in everything):
        if not has_summary(step_lines):
            step_cases.append(run_error("no result counts in its output "
                                        "(exit %s)" % rc, step_lines))
        elif rc != "0":
            step_cases.append(run_error("exit %s with no failing test" % rc,
                                        step_lines))
    if step_cases or not suites:
        suites.append((name, seconds, step_cases))
    return suites


def read_lines(path):
    """PATH's lines, cleaned; split at newlines only, as grep and awk do
    (str.splitlines would also split at \r, \f, \x1c...)."""
    try:
        with open(path, encoding="utf-8", errors="replace", newline="") as f:
            text = f.read()
    except OSError:
        return []
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    return [clean(l) for l in lines]


def add_suite(root, name, seconds, cases):
    # A step that prints no durations: its wall time shared out evenly.
    if cases and all(c.ms is None for c in cases):
        for c in cases:
            c.ms = seconds * 1000.0 / len(cases)
    counts = {s: sum(c.status == s for c in cases) for s in STATUS.values()}
    counts["error"] = sum(c.status == "error" for c in cases)
    el = ET.SubElement(root, "testsuite", {
        "name": name, "tests": str(len(cases)),
        "failures": str(counts["fail"]), "errors": str(counts["error"]),
        "skipped": str(counts["skip"]), "time": "%.3f" % seconds,
    })
    for case in cases:
        group, _, rest = case.name.partition(".")
        tc = ET.SubElement(el, "testcase", {
            "classname": "%s.%s" % (name, group), "name": rest or group,
            "time": "%.3f" % ((case.ms or 0) / 1000.0),
        })
        if case.status in BAD:
            tag = "failure" if case.status == "fail" else "error"
            ET.SubElement(tc, tag, {"message": case.message}).text = \
                "\n".join([case.message, ""] + case.body)
        elif case.status == "skip":
            ET.SubElement(tc, "skipped", {"message": case.message})
    return counts, len(cases)


def write(out, manifest):
    root = ET.Element("testsuites", {"name": "pvmm make test"})
    totals = {"tests": 0, "fail": 0, "error": 0, "skip": 0}
    seconds_all = 0.0
    for entry in read_lines(manifest):
        if not entry.strip():
            continue
        fields = entry.split("\t") + [""] * 5
        name, rc, seconds, output, serial = fields[:5]
        seconds = float(seconds or 0)
        seconds_all += seconds
        lines = read_lines(output)
        if serial:
            suites = domu_suites(name, rc, seconds, lines, read_lines(serial))
        else:
            suites = [step_suite(name, rc, seconds, lines)]
        for suite in suites:
            counts, n = add_suite(root, *suite)
            totals["tests"] += n
            for k in ("fail", "error", "skip"):
                totals[k] += counts[k]
    root.set("tests", str(totals["tests"]))
    root.set("failures", str(totals["fail"]))
    root.set("errors", str(totals["error"]))
    root.set("skipped", str(totals["skip"]))
    root.set("time", "%.3f" % seconds_all)
    ET.indent(root)
    tmp = out + ".tmp"
    ET.ElementTree(root).write(tmp, encoding="utf-8", xml_declaration=True)
    os.replace(tmp, out)


def check(path, passed, failed, skipped):
    """Parses PATH back; True if its structure and counts hold, and its
    passes, failures (with errors) and skips equal make test's total."""
    root = ET.parse(path).getroot()     # raises on malformed XML
    problems = []
    if root.tag != "testsuites":
        problems.append("the root is <%s>, not <testsuites>" % root.tag)
    totals = {"pass": 0, "fail": 0, "skip": 0}
    all_n = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    suites = root.findall("testsuite")
    if not suites:
        problems.append("no <testsuite>")
    for s in suites:
        cases = s.findall("testcase")
        n = {k: sum(1 for c in cases if c.find(k) is not None)
             for k in ("failure", "error", "skipped")}
        for attr, want in (("tests", len(cases)), ("failures", n["failure"]),
                           ("errors", n["error"]), ("skipped", n["skipped"])):
            if s.get(attr) != str(want):
                problems.append("suite %s: %s=%s but %d such testcases" %
                                (s.get("name"), attr, s.get(attr), want))
            all_n[attr] += want
        for c in cases:
            outcome = [k for k in ("failure", "error", "skipped")
                       if c.find(k) is not None]
            if len(outcome) > 1 or not c.get("classname") or \
               not c.get("name") or \
               not re.match(r"^\d+\.\d{3}$", c.get("time", "")):
                problems.append("suite %s: testcase %s.%s is malformed" %
                                (s.get("name"), c.get("classname"),
                                 c.get("name")))
        totals["fail"] += n["failure"] + n["error"]
        totals["skip"] += n["skipped"]
        totals["pass"] += len(cases) - n["failure"] - n["error"] - \
            n["skipped"]
    for attr, want in all_n.items():
        if root.get(attr) != str(want):
            problems.append("testsuites: %s=%s but %d such testcases" %
                            (attr, root.get(attr), want))
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
