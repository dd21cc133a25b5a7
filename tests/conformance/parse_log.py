#!/usr/bin/env python3
"""Parses os-ken switch tester logs into per-case results and reports them.

The os-ken 3.1.1 switch tester (os_ken/tests/switch/tester.py) logs, per test file, the
file's description (``action: 00_OUTPUT``) before its first case, then one line per case,
``'    %-100s %s' % (case description, 'OK' | 'ERROR')``, and after an ERROR one line
``'        %s' % error text``. The run ends with ``---  Test end  ---``, a report by error
class and ``OK(n) / ERROR(m)``. A test file's description is also its key: two files
with the same description collapse into one (the later in ``os.listdir`` order wins),
which is why of10 runs 184 of its 192 cases.

Used by run.sh, one subcommand per step (stdlib only; Python 3.9+):

  parse      one tester log -> results JSON (cases not in the log are MISSING)
  rerun-set  results JSON -> a directory of JSON test files holding only the cases to run
             again (transient errors: timeouts, throughput, disconnects)
  merge      first results + re-run results -> results (a re-run result replaces the first)
  report     results JSON files -> markdown report, summary on stdout, baseline check

Exit status of ``report``: 0, or 1 when a case that is OK in the baseline is not OK now.
"""

import argparse
import datetime
import json
import os
import re
import sys

OK = "OK"
ERROR = "ERROR"
MISSING = "MISSING"

TEST_START = "--- Test start ---"
TEST_END = "---  Test end  ---"

_CASE_RE = re.compile(r"^    (?P<case>\S.*?) +(?P<result>OK|ERROR)$")
_ERROR_RE = re.compile(r"^        (?P<text>\S.*)$")
_FILE_RE = re.compile(r"^(?P<category>[a-z][a-z0-9_]*): (?P<name>\S.*)$")
_TOTALS_RE = re.compile(r"^OK\((?P<ok>\d+)\) / ERROR\((?P<error>\d+)\)$")
_OFP_ERR_RE = re.compile(r"OFPErrorMsg\[type=0x(?P<type>[0-9a-fA-F]+), code=0x(?P<code>[0-9a-fA-F]+)\]")

# OpenFlow error (type, code) names, from the OpenFlow 1.0.0 and 1.3.x specifications.
_OF13_ERRORS = {
    0: ("HELLO_FAILED", ["INCOMPATIBLE", "EPERM"]),
    1: ("BAD_REQUEST", ["BAD_VERSION", "BAD_TYPE", "BAD_MULTIPART", "BAD_EXPERIMENTER",
                        "BAD_EXP_TYPE", "EPERM", "BAD_LEN", "BUFFER_EMPTY", "BUFFER_UNKNOWN",
                        "BAD_TABLE_ID", "IS_SLAVE", "BAD_PORT", "BAD_PACKET",
                        "MULTIPART_BUFFER_OVERFLOW"]),
    2: ("BAD_ACTION", ["BAD_TYPE", "BAD_LEN", "BAD_EXPERIMENTER", "BAD_EXP_TYPE",
                       "BAD_OUT_PORT", "BAD_ARGUMENT", "EPERM", "TOO_MANY", "BAD_QUEUE",
                       "BAD_OUT_GROUP", "MATCH_INCONSISTENT", "UNSUPPORTED_ORDER", "BAD_TAG",
                       "BAD_SET_TYPE", "BAD_SET_LEN", "BAD_SET_ARGUMENT"]),
    3: ("BAD_INSTRUCTION", ["UNKNOWN_INST", "UNSUP_INST", "BAD_TABLE_ID", "UNSUP_METADATA",
                            "UNSUP_METADATA_MASK", "BAD_EXPERIMENTER", "BAD_EXP_TYPE",
                            "BAD_LEN", "EPERM"]),
    4: ("BAD_MATCH", ["BAD_TYPE", "BAD_LEN", "BAD_TAG", "BAD_DL_ADDR_MASK",
                      "BAD_NW_ADDR_MASK", "BAD_WILDCARDS", "BAD_FIELD", "BAD_VALUE",
                      "BAD_MASK", "BAD_PREREQ", "DUP_FIELD", "EPERM"]),
    5: ("FLOW_MOD_FAILED", ["UNKNOWN", "TABLE_FULL", "BAD_TABLE_ID", "OVERLAP", "EPERM",
                            "BAD_TIMEOUT", "BAD_COMMAND", "BAD_FLAGS"]),
    6: ("GROUP_MOD_FAILED", ["GROUP_EXISTS", "INVALID_GROUP", "WEIGHT_UNSUPPORTED",
                             "OUT_OF_GROUPS", "OUT_OF_BUCKETS", "CHAINING_UNSUPPORTED",
                             "WATCH_UNSUPPORTED", "LOOP", "UNKNOWN_GROUP", "CHAINED_GROUP",
                             "BAD_TYPE", "BAD_COMMAND", "BAD_BUCKET", "BAD_WATCH", "EPERM"]),
    7: ("PORT_MOD_FAILED", ["BAD_PORT", "BAD_HW_ADDR", "BAD_CONFIG", "BAD_ADVERTISE",
                            "EPERM"]),
    8: ("TABLE_MOD_FAILED", ["BAD_TABLE", "BAD_CONFIG", "EPERM"]),
    9: ("QUEUE_OP_FAILED", ["BAD_PORT", "BAD_QUEUE", "EPERM"]),
    10: ("SWITCH_CONFIG_FAILED", ["BAD_FLAGS", "BAD_LEN", "EPERM"]),
    11: ("ROLE_REQUEST_FAILED", ["STALE", "UNSUP", "BAD_ROLE"]),
    12: ("METER_MOD_FAILED", ["UNKNOWN", "METER_EXISTS", "INVALID_METER", "UNKNOWN_METER",
                             "BAD_COMMAND", "BAD_FLAGS", "BAD_RATE", "BAD_BURST", "BAD_BAND",
                             "BAD_BAND_VALUE", "OUT_OF_METERS", "OUT_OF_BANDS"]),
    13: ("TABLE_FEATURES_FAILED", ["BAD_TABLE", "BAD_METADATA", "BAD_TYPE", "BAD_LEN",
                                   "BAD_ARGUMENT", "EPERM"]),
    0xFFFF: ("EXPERIMENTER", []),
}
_OF10_ERRORS = {
    0: ("HELLO_FAILED", ["INCOMPATIBLE", "EPERM"]),
    1: ("BAD_REQUEST", ["BAD_VERSION", "BAD_TYPE", "BAD_STAT", "BAD_VENDOR", "BAD_SUBTYPE",
                        "EPERM", "BAD_LEN", "BUFFER_EMPTY", "BUFFER_UNKNOWN"]),
    2: ("BAD_ACTION", ["BAD_TYPE", "BAD_LEN", "BAD_VENDOR", "BAD_VENDOR_TYPE",
                       "BAD_OUT_PORT", "BAD_ARGUMENT", "EPERM", "TOO_MANY", "BAD_QUEUE"]),
    3: ("FLOW_MOD_FAILED", ["ALL_TABLES_FULL", "OVERLAP", "EPERM", "BAD_EMERG_TIMEOUT",
                            "BAD_COMMAND", "UNSUPPORTED"]),
    4: ("PORT_MOD_FAILED", ["BAD_PORT", "BAD_HW_ADDR"]),
    5: ("QUEUE_OP_FAILED", ["BAD_PORT", "BAD_QUEUE", "EPERM"]),
}

# Errors that depend on load and timing rather than on the switch's behaviour: worth
# one re-run before calling a case a regression.
_TRANSIENT_MARKERS = ("timeout", "unexpected throughput", "disconnected from switch")


def is_transient(error):
    """True when an error text is of a load-dependent class (timeouts and the like)."""
    e = (error or "").lower()
    return any(m in e for m in _TRANSIENT_MARKERS)


def ofp_error_name(type_, code, version):
    """``BAD_ACTION/BAD_TYPE`` for (2, 0); numeric when unknown."""
    table = _OF10_ERRORS if version == "of10" else _OF13_ERRORS
    tname, codes = table.get(type_, ("type=0x%02x" % type_, []))
    cname = codes[code] if 0 <= code < len(codes) else "code=0x%02x" % code
    return "%s/%s" % (tname, cname)


def error_class(error, suite="of13"):
    """Groups an error text the way the tester's report does, with OpenFlow error
    numbers named: ``Failed to add flows: BAD_ACTION/BAD_TYPE``,
    ``Receiving timeout: no packet-in.``, ``Received incorrect packet``."""
    if not error:
        return ""
    m = _OFP_ERR_RE.search(error)
    if m:
        prefix = error.split(":", 1)[0]
        # Errors about the tester switch come from it, and it always speaks OF1.3.
        version = "of13" if "tester_sw" in prefix else suite
        return "%s: %s" % (prefix, ofp_error_name(int(m.group("type"), 16),
                                                   int(m.group("code"), 16), version))
    if error.startswith("Receiving timeout"):
        return error.strip()
    return error.split(":", 1)[0].strip()


def parse_log(text):
    """Parses a tester log. Returns a dict: ``cases`` (list of dicts with category,
    file, case, result, error, in log order), ``complete`` (the run reached its end),
    ``totals`` ((ok, error) from the final line, or None)."""
    cases = []
    in_tests = False
    complete = False
    totals = None
    category = file_name = None
    last = None
    for raw in text.splitlines():
        line = raw.rstrip("\r\n")
        if line.strip() == TEST_START:
            in_tests = True
            continue
        if line.strip() == TEST_END.strip() or line == TEST_END:
            in_tests = False
            complete = True
            continue
        m = _TOTALS_RE.match(line.strip())
        if m and complete:
            totals = (int(m.group("ok")), int(m.group("error")))
            continue
        if not in_tests:
            continue
        m = _CASE_RE.match(line)
        if m and category is not None:
            last = {
                "category": category,
                "file": file_name,
                "case": m.group("case"),
                "result": m.group("result"),
                "error": "",
            }
            cases.append(last)
            continue
        m = _ERROR_RE.match(line)
        if m and last is not None and last["result"] == ERROR and not last["error"]:
            last["error"] = m.group("text").strip()
            continue
        m = _FILE_RE.match(line)
        if m:
            category, file_name = m.group("category"), m.group("name").strip()
            last = None
    return {"cases": cases, "complete": complete, "totals": totals}


def load_test_dir(path):
    """The tests the tester would run from ``path`` (a directory or one .json file), in
    its order: ``[(file description, [case dicts], source path)]`` sorted by description,
    later files in ``os.listdir`` order replacing earlier ones with the same description."""
    files = {}

    def walk(p):
        if os.path.isdir(p):
            for name in os.listdir(p):
                walk(os.path.join(p, name))
        elif p.endswith(".json") and os.path.isfile(p):
            with open(p) as f:
                items = json.load(f)
            desc = None
            tests = []
            for item in items:
                if isinstance(item, str):
                    desc = item
                else:
                    tests.append(item)
            if desc is not None:
                files[desc] = (tests, p)

    walk(path)
    return [(d, files[d][0], files[d][1]) for d in sorted(files)]


def split_file_desc(desc):
    """``action: 00_OUTPUT`` -> (``action``, ``00_OUTPUT``)."""
    cat, _, name = desc.partition(": ")
    return cat.strip(), name.strip()


def expected_cases(test_dir):
    """[(category, file, case)] the tester runs from ``test_dir``, in order."""
    out = []
    for desc, tests, _ in load_test_dir(test_dir):
        cat, name = split_file_desc(desc)
        out.extend((cat, name, t.get("description", "")) for t in tests)
    return out


def results_from_log(text, suite, test_dir, seconds=None, category=None):
    """Results for one run: the parsed cases, plus every case of ``test_dir`` the log
    does not show, as MISSING."""
    parsed = parse_log(text)
    seen = {(c["category"], c["file"], c["case"]) for c in parsed["cases"]}
    cases = [dict(c, suite=suite) for c in parsed["cases"]]
    for cat, name, case in expected_cases(test_dir):
        if (cat, name, case) not in seen:
            cases.append({"suite": suite, "category": cat, "file": name, "case": case,
                          "result": MISSING, "error": "not run (tester stopped early)"})
    for c in cases:
        c["class"] = error_class(c["error"], suite) if c["result"] != OK else ""
    cats = sorted({c["category"] for c in cases}) or ([category] if category else [])
    return {
        "suite": suite,
        "categories": cats,
        "seconds": seconds,
        "complete": parsed["complete"],
        "tester_totals": parsed["totals"],
        "cases": cases,
    }


def case_key(c):
    """Identity of a case across runs."""
    return (c["suite"], c["category"], c["file"], c["case"])


def load_baseline(path):
    """Per-case results from a baseline: this script's markdown report or a TSV file
    (``suite<TAB>category<TAB>file<TAB>case<TAB>result``). Returns {key: result}."""
    out = {}
    in_cases = False
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("## "):
                in_cases = line.strip() == "## Cases"
            elif "\t" in line and not line.startswith("#"):
                parts = line.split("\t")
                if len(parts) >= 5:
                    out[tuple(parts[:4])] = parts[4]
            elif in_cases and line.startswith("| of"):
                cells = _md_cells(line)
                if len(cells) >= 5:
                    out[tuple(cells[:4])] = cells[4]
    return out


def rerun_candidates(results, baseline=None):
    """Cases to run once more: non-OK with a transient error class; with a baseline,
    only those that are OK there (a possible regression)."""
    out = []
    for c in results["cases"]:
        if c["result"] != ERROR or not is_transient(c["error"]):
            continue
        if baseline is not None and baseline.get(case_key(c)) != OK:
            continue
        out.append(c)
    return out


def write_subset(test_dir, cases, out_dir):
    """Writes JSON test files under ``out_dir`` holding only ``cases`` (from
    ``test_dir``). Returns how many cases were written."""
    want = {(c["category"], c["file"], c["case"]) for c in cases}
    os.makedirs(out_dir, exist_ok=True)
    n = 0
    for i, (desc, tests, _) in enumerate(load_test_dir(test_dir)):
        cat, name = split_file_desc(desc)
        keep = [t for t in tests if (cat, name, t.get("description", "")) in want]
        if keep:
            with open(os.path.join(out_dir, "%03d.json" % i), "w") as f:
                json.dump([desc] + keep, f, indent=1)
            n += len(keep)
    return n


def merge(first, rerun):
    """``first`` with each case found in ``rerun`` replaced by its re-run result; the
    first error is kept in ``first_error``."""
    again = {case_key(c): c for c in rerun["cases"] if c["result"] != MISSING}
    cases = []
    for c in first["cases"]:
        r = again.get(case_key(c))
        if r is None:
            cases.append(c)
        else:
            cases.append(dict(r, first_error=c["error"] or c["result"]))
    out = dict(first, cases=cases)
    out["rerun_seconds"] = rerun.get("seconds")
    return out


def counts(cases):
    """(ok, error, missing) of a list of cases."""
    ok = sum(1 for c in cases if c["result"] == OK)
    err = sum(1 for c in cases if c["result"] == ERROR)
    return ok, err, len(cases) - ok - err


def _md_escape(s):
    return s.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def _md_cells(line):
    """Cells of a markdown table row, unescaping ``\\|`` and ``\\\\``, without code
    span backticks."""
    cells = []
    cur = []
    i = 1 if line.startswith("|") else 0
    while i < len(line):
        ch = line[i]
        if ch == "\\" and i + 1 < len(line):
            cur.append(line[i + 1])
            i += 2
            continue
        if ch == "|":
            cells.append("".join(cur).strip())
            cur = []
        else:
            cur.append(ch)
        i += 1
    if "".join(cur).strip():
        cells.append("".join(cur).strip())
    return [c[1:-1] if len(c) >= 2 and c[0] == "`" and c[-1] == "`" else c for c in cells]


def _code(s):
    return "`%s`" % s if "`" not in s else s


def _short(s, n=240):
    return s if len(s) <= n else s[: n - 1] + "…"


def compare(baseline, cases):
    """(regressions, fixes): cases OK in the baseline and not OK now, and the reverse."""
    now = {case_key(c): c for c in cases}
    regressions = [now[k] for k in now if baseline.get(k) == OK and now[k]["result"] != OK]
    # A baseline case absent from this run's selection is not a regression; one that the
    # tester should have run is reported MISSING above.
    fixes = [now[k] for k in now if k in baseline and baseline[k] != OK and now[k]["result"] == OK]
    return regressions, fixes


EXPLANATIONS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "explanations.tsv")


def load_explanations(path=EXPLANATIONS):
    """(regex, text) pairs from a TSV file: a regular expression searched in
    "file | case | error" of a failed case, a tab, and why that case fails."""
    out = []
    try:
        with open(path) as f:
            for line in f:
                line = line.rstrip("\n")
                if not line or line.startswith("#") or "\t" not in line:
                    continue
                pattern, text = line.split("\t", 1)
                out.append((re.compile(pattern), text.strip()))
    except OSError:
        pass
    return out


def explain(case, explanations):
    """Why a failed case fails, from the explanations file ("" when none applies)."""
    subject = "%s | %s | %s" % (case.get("file", ""), case.get("case", ""), case.get("error", ""))
    for pattern, text in explanations:
        if pattern.search(subject):
            return text
    return ""


def render(runs, meta, regressions=None, fixes=None, explanations=None):
    """The markdown report."""
    if explanations is None:
        explanations = load_explanations()
    cases = [c for r in runs for c in r["cases"]]
    lines = ["# OpenFlow conformance: os-ken switch tester", ""]
    lines.append("Generated by `tests/conformance/run.sh` on %s." % meta.get("date", ""))
    for k in ("target", "tester", "command"):
        if meta.get(k):
            lines.append("%s: %s  " % (k.capitalize(), meta[k]))
    lines += ["", "Re-runs: cases whose first error was transient (a timeout, throughput, a "
              "disconnect) and were run once more show the re-run result; the first error "
              "is in the note column.", ""]
    lines += ["## Summary", "",
              "| suite | category | OK | ERROR | MISSING | total | seconds | re-run |",
              "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in runs:
        for cat in r["categories"]:
            cc = [c for c in r["cases"] if c["category"] == cat]
            ok, err, miss = counts(cc)
            rer = sum(1 for c in cc if "first_error" in c)
            secs = r.get("seconds")
            lines.append("| %s | %s | %d | %d | %d | %d | %s | %d |" % (
                r["suite"], cat, ok, err, miss, len(cc),
                "" if secs is None else "%d" % secs, rer))
    ok, err, miss = counts(cases)
    lines.append("| **all** | | **%d** | **%d** | **%d** | **%d** | | |" % (ok, err, miss, len(cases)))
    lines += ["", "## Errors by class", "", "| suite | category | class | cases |",
              "| --- | --- | --- | ---: |"]
    classes = {}
    for c in cases:
        if c["result"] != OK:
            k = (c["suite"], c["category"], c.get("class") or c["result"])
            classes[k] = classes.get(k, 0) + 1
    for k in sorted(classes, key=lambda k: (k[0], k[1], -classes[k], k[2])):
        lines.append("| %s | %s | %s | %d |" % (k[0], k[1], _md_escape(k[2]), classes[k]))
    if regressions is not None:
        lines += ["", "## Against the baseline (%s)" % meta.get("baseline", ""), "",
                  "%d regressions (OK in the baseline, not OK now), %d fixed." % (
                      len(regressions), len(fixes or []))]
        for c in regressions:
            lines.append("- regression: %s %s %s `%s`: %s" % (
                c["suite"], c["category"], c["file"], c["case"], _short(c["error"] or c["result"])))
    why = {}
    for c in cases:
        if c["result"] != OK:
            text = explain(c, explanations) or "not explained yet"
            why[text] = why.get(text, 0) + 1
    if why:
        lines += ["", "## Why the remaining cases fail", "", "| cases | explanation |",
                  "| ---: | --- |"]
        for text in sorted(why, key=lambda t: -why[t]):
            lines.append("| %d | %s |" % (why[text], _md_escape(text)))
    lines += ["", "## Cases", "",
              "| suite | category | file | case | result | error | note |",
              "| --- | --- | --- | --- | --- | --- | --- |"]
    for c in cases:
        note = ("re-run; first: " + _short(c["first_error"], 120)) if "first_error" in c else ""
        if c["result"] != OK:
            reason = explain(c, explanations)
            if reason:
                note = (note + "; " if note else "") + reason
        lines.append("| %s | %s | %s | %s | %s | %s | %s |" % (
            c["suite"], c["category"], _md_escape(c["file"]), _code(_md_escape(c["case"])),
            c["result"], _md_escape(_short(c["error"])), _md_escape(note)))
    return "\n".join(lines) + "\n"


def summary_text(runs, regressions=None, fixes=None):
    """The plain-text summary printed at the end of a run."""
    out = ["%-5s %-8s %6s %6s %8s %6s %8s" % ("suite", "category", "OK", "ERROR", "MISSING", "total", "seconds")]
    cases = []
    for r in runs:
        for cat in r["categories"]:
            cc = [c for c in r["cases"] if c["category"] == cat]
            cases += cc
            ok, err, miss = counts(cc)
            secs = r.get("seconds")
            out.append("%-5s %-8s %6d %6d %8d %6d %8s" % (
                r["suite"], cat, ok, err, miss, len(cc), "" if secs is None else "%d" % secs))
    ok, err, miss = counts(cases)
    out.append("%-14s %6d %6d %8d %6d" % ("all", ok, err, miss, len(cases)))
    if regressions is not None:
        out.append("baseline: %d regressions, %d fixed" % (len(regressions), len(fixes or [])))
        for c in regressions:
            out.append("  REGRESSION %s %s %s | %s | %s" % (
                c["suite"], c["category"], c["file"], c["case"], _short(c["error"] or c["result"], 160)))
    return "\n".join(out)


def _read_json(p):
    with open(p) as f:
        return json.load(f)


def _write_json(p, obj):
    with open(p, "w") as f:
        json.dump(obj, f, indent=1)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("parse", help="tester log -> results JSON")
    p.add_argument("--log", required=True)
    p.add_argument("--suite", required=True)
    p.add_argument("--test-dir", required=True, help="what the tester was given")
    p.add_argument("--category")
    p.add_argument("--seconds", type=float)
    p.add_argument("--out", required=True)
    p = sub.add_parser("rerun-set", help="write the transient failures as test files")
    p.add_argument("--results", required=True)
    p.add_argument("--test-dir", required=True)
    p.add_argument("--out-dir", required=True)
    p.add_argument("--baseline")
    p = sub.add_parser("merge", help="replace results with re-run results")
    p.add_argument("--results", required=True)
    p.add_argument("--rerun", required=True)
    p.add_argument("--out", required=True)
    p = sub.add_parser("report", help="results -> markdown, summary, baseline check")
    p.add_argument("results", nargs="+")
    p.add_argument("--out", required=True)
    p.add_argument("--baseline")
    p.add_argument("--save-baseline")
    p.add_argument("--target", default="")
    p.add_argument("--tester", default="")
    p.add_argument("--command", default="")
    a = ap.parse_args(argv)

    if a.cmd == "parse":
        with open(a.log, errors="replace") as f:
            text = f.read()
        _write_json(a.out, results_from_log(text, a.suite, a.test_dir, a.seconds, a.category))
        return 0
    if a.cmd == "rerun-set":
        res = _read_json(a.results)
        base = load_baseline(a.baseline) if a.baseline else None
        print(write_subset(a.test_dir, rerun_candidates(res, base), a.out_dir))
        return 0
    if a.cmd == "merge":
        _write_json(a.out, merge(_read_json(a.results), _read_json(a.rerun)))
        return 0
    runs = [_read_json(p) for p in a.results]
    regressions = fixes = None
    if a.baseline:
        regressions, fixes = compare(load_baseline(a.baseline), [c for r in runs for c in r["cases"]])
    meta = {"date": datetime.datetime.now().strftime("%Y-%m-%d %H:%M"), "target": a.target,
            "tester": a.tester, "command": a.command, "baseline": a.baseline or ""}
    with open(a.out, "w") as f:
        f.write(render(runs, meta, regressions, fixes))
    if a.save_baseline:
        with open(a.save_baseline, "w") as f:
            f.write("# suite\tcategory\tfile\tcase\tresult (tests/conformance/run.sh)\n")
            for r in runs:
                for c in r["cases"]:
                    f.write("\t".join([c["suite"], c["category"], c["file"], c["case"], c["result"]]) + "\n")
    print(summary_text(runs, regressions, fixes))
    return 1 if regressions else 0


if __name__ == "__main__":
    sys.exit(main())
