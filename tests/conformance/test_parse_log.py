"""Unit tests for parse_log.py over a small synthetic tester log.

Run: python3 -m unittest discover -s tests/conformance   (or cd there and
python3 -m unittest test_parse_log).
"""

import io
import json
import os
import sys
import tempfile
import unittest
from contextlib import redirect_stdout

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import parse_log as pl  # noqa: E402


def case_line(desc, result):
    return "    %-100s %s" % (desc, result)


# Shaped like a real os-ken 3.1.1 run: noise before the test section, a file header per
# test file, one line per case, one error line after each ERROR, then the report.
LOG = "\n".join([
    "/venv/lib/python3.11/site-packages/os_ken/lib/hub.py:160: EventletDeprecationWarning:",
    "  import eventlet",
    "loading app /venv/lib/python3.11/site-packages/os_ken/tests/switch/tester.py",
    "target_dpid=0000000000000001",
    "tester_dpid=0000000000000002",
    "Test files directory = /x/of13/action",
    "--- Test start ---",
    "waiting for switches connection...",
    "dpid=0000000000000002 : Join tester SW.",
    "dpid=0000000000000001 : Join target SW.",
    "action: 00_OUTPUT",
    case_line("ethernet/ipv4/tcp-->'actions=output:2'", "OK"),
    case_line("ethernet/vlan/ipv4/tcp-->'actions=output:2'", "ERROR"),
    "        Receiving timeout: no change in tx_packets on target.",
    "action: 16_PUSH_PBB",
    case_line("ethernet/ipv4/tcp-->'eth_type=0x0800,actions=push_pbb:0x88e7,output:2'", "ERROR"),
    "        Failed to add flows: OFPErrorMsg[type=0x02, code=0x00]",
    case_line("x" * 120, "OK"),
    "match: 03_ETH_TYPE",
    case_line("ethernet/arp-->'eth_type=0x0806,actions=output:2'", "ERROR"),
    "        Received incorrect packet: ethernet(ethertype=2048)",
    "---  Test end  ---",
    "",
    "--- Test report ---",
    "Failed to add flows(1)",
    "    action: 16_PUSH_PBB                      ethernet/ipv4/tcp-->'x'",
    "",
    "OK(2) / ERROR(3)",
])


def write_suite(root):
    """A test directory like os_ken/tests/switch/of13/action, with a duplicate file
    description whose later copy (in listdir order) must win."""
    os.makedirs(os.path.join(root, "sub"))
    files = {
        "00_OUTPUT.json": ["action: 00_OUTPUT",
                           {"description": "ethernet/ipv4/tcp-->'actions=output:2'"},
                           {"description": "ethernet/vlan/ipv4/tcp-->'actions=output:2'"},
                           {"description": "never-run-case"}],
        "sub/16_PUSH_PBB.json": ["action: 16_PUSH_PBB",
                                 {"description": "ethernet/ipv4/tcp-->'eth_type=0x0800,actions=push_pbb:0x88e7,output:2'"},
                                 {"description": "x" * 120}],
        "dup_a.json": ["action: 99_DUP", {"description": "dup-a"}],
        "dup_b.json": ["action: 99_DUP", {"description": "dup-b"}],
    }
    for name, content in files.items():
        with open(os.path.join(root, name), "w") as f:
            json.dump(content, f)


class ParseLogTest(unittest.TestCase):
    def test_cases_results_and_errors(self):
        p = pl.parse_log(LOG)
        self.assertTrue(p["complete"])
        self.assertEqual(p["totals"], (2, 3))
        got = [(c["category"], c["file"], c["case"][:20], c["result"]) for c in p["cases"]]
        self.assertEqual(got, [
            ("action", "00_OUTPUT", "ethernet/ipv4/tcp-->", "OK"),
            ("action", "00_OUTPUT", "ethernet/vlan/ipv4/t", "ERROR"),
            ("action", "16_PUSH_PBB", "ethernet/ipv4/tcp-->", "ERROR"),
            ("action", "16_PUSH_PBB", "x" * 20, "OK"),
            ("match", "03_ETH_TYPE", "ethernet/arp-->'eth_", "ERROR"),
        ])
        self.assertEqual(p["cases"][3]["case"], "x" * 120, "long descriptions are not cut")
        self.assertEqual(p["cases"][1]["error"], "Receiving timeout: no change in tx_packets on target.")
        self.assertEqual(p["cases"][2]["error"], "Failed to add flows: OFPErrorMsg[type=0x02, code=0x00]")
        self.assertEqual(p["cases"][0]["error"], "")
        # The report section after "Test end" is not mistaken for cases.
        self.assertEqual(len(p["cases"]), 5)

    def test_truncated_log_is_incomplete(self):
        cut = LOG.split("---  Test end  ---")[0]
        p = pl.parse_log(cut)
        self.assertFalse(p["complete"])
        self.assertIsNone(p["totals"])
        self.assertEqual(len(p["cases"]), 5)

    def test_error_classes(self):
        self.assertEqual(pl.error_class("Failed to add flows: OFPErrorMsg[type=0x02, code=0x00]"),
                         "Failed to add flows: BAD_ACTION/BAD_TYPE")
        self.assertEqual(pl.error_class("Failed to add flows: OFPErrorMsg[type=0x04, code=0x06]"),
                         "Failed to add flows: BAD_MATCH/BAD_FIELD")
        self.assertEqual(pl.error_class("Failed to add meters: OFPErrorMsg[type=0x0c, code=0x08]"),
                         "Failed to add meters: METER_MOD_FAILED/BAD_BAND")
        # OF1.0 numbering differs: type 3 is FLOW_MOD_FAILED there, BAD_INSTRUCTION in 1.3.
        self.assertEqual(pl.error_class("Failed to add flows: OFPErrorMsg[type=0x03, code=0x05]", "of10"),
                         "Failed to add flows: FLOW_MOD_FAILED/UNSUPPORTED")
        self.assertEqual(pl.error_class("Failed to add flows: OFPErrorMsg[type=0x03, code=0x01]", "of13"),
                         "Failed to add flows: BAD_INSTRUCTION/UNSUP_INST")
        # Messages from the tester switch are OF1.3 whatever the suite.
        self.assertEqual(
            pl.error_class("Failed to add flows to tester_sw: OFPErrorMsg[type=0x04, code=0x06]", "of10"),
            "Failed to add flows to tester_sw: BAD_MATCH/BAD_FIELD")
        self.assertEqual(pl.error_class("Failed to add flows: OFPErrorMsg[type=0x63, code=0x07]"),
                         "Failed to add flows: type=0x63/code=0x07")
        self.assertEqual(pl.error_class("Receiving timeout: no packet-in."), "Receiving timeout: no packet-in.")
        self.assertEqual(pl.error_class("Received incorrect packet: ethernet(ethertype=2048)"),
                         "Received incorrect packet")

    def test_transient_errors(self):
        for e in ("Receiving timeout: no change in tx_packets on target.",
                  "Receiving timeout: no packet-in.",
                  "Failed to request port stats from target: request timeout.",
                  "Failed to add flows: barrier request timeout.",
                  "Received unexpected throughput: {...}",
                  "Disconnected from switch"):
            self.assertTrue(pl.is_transient(e), e)
        for e in ("Failed to add flows: OFPErrorMsg[type=0x02, code=0x00]",
                  "Received incorrect packet: ethernet(ethertype=2048)",
                  "Added incorrect flows: x", "Table-miss error: increment in matched_count.", ""):
            self.assertFalse(pl.is_transient(e), e)


class ResultsTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = os.path.join(self.tmp.name, "action")
        write_suite(self.dir)

    def tearDown(self):
        self.tmp.cleanup()

    def test_expected_cases_follow_the_tester(self):
        exp = pl.expected_cases(self.dir)
        files = [f for _, f, _ in exp]
        self.assertEqual(files, sorted(files), "sorted by file description")
        dups = [c for _, f, c in exp if f == "99_DUP"]
        self.assertEqual(len(dups), 1, "a duplicate description collapses to one file")
        winner = [n for n in os.listdir(self.dir) if n.startswith("dup_")][-1]
        self.assertEqual(dups, ["dup-" + winner[4]], "the later file in listdir order wins")

    def test_missing_cases_are_reported(self):
        r = pl.results_from_log(LOG, "of13", self.dir, seconds=12)
        by = {(c["file"], c["case"]): c for c in r["cases"]}
        self.assertEqual(by[("00_OUTPUT", "never-run-case")]["result"], pl.MISSING)
        self.assertEqual(by[("16_PUSH_PBB", "ethernet/ipv4/tcp-->'eth_type=0x0800,actions=push_pbb:0x88e7,output:2'")]
                         ["class"], "Failed to add flows: BAD_ACTION/BAD_TYPE")
        self.assertEqual(r["categories"], ["action", "match"])
        self.assertEqual(pl.counts([c for c in r["cases"] if c["category"] == "action"]), (2, 2, 2))

    def test_rerun_subset_and_merge(self):
        first = pl.results_from_log(LOG, "of13", self.dir)
        cand = pl.rerun_candidates(first)
        self.assertEqual([c["case"] for c in cand], ["ethernet/vlan/ipv4/tcp-->'actions=output:2'"])
        sub = os.path.join(self.tmp.name, "rerun")
        self.assertEqual(pl.write_subset(self.dir, cand, sub), 1)
        self.assertEqual(pl.expected_cases(sub), [("action", "00_OUTPUT", cand[0]["case"])])
        # The re-run passes: the merged result is OK and remembers the first error.
        relog = "\n".join(["--- Test start ---", "action: 00_OUTPUT",
                           case_line(cand[0]["case"], "OK"), "---  Test end  ---", "OK(1) / ERROR(0)"])
        again = pl.results_from_log(relog, "of13", sub, seconds=3)
        merged = pl.merge(first, again)
        m = [c for c in merged["cases"] if c["case"] == cand[0]["case"]][0]
        self.assertEqual(m["result"], pl.OK)
        self.assertIn("Receiving timeout", m["first_error"])
        self.assertEqual(len(merged["cases"]), len(first["cases"]))
        self.assertEqual(pl.counts(merged["cases"]), (3, 2, 2))

    def test_baseline_limits_reruns_and_finds_regressions(self):
        first = pl.results_from_log(LOG, "of13", self.dir)
        timeout_case = ("of13", "action", "00_OUTPUT", "ethernet/vlan/ipv4/tcp-->'actions=output:2'")
        base_err = {timeout_case: pl.ERROR}
        self.assertEqual(pl.rerun_candidates(first, base_err), [], "failing in the baseline too")
        base_ok = {timeout_case: pl.OK,
                   ("of13", "action", "16_PUSH_PBB", "x" * 120): pl.ERROR,
                   ("of13", "action", "00_OUTPUT", "ethernet/ipv4/tcp-->'actions=output:2'"): pl.OK}
        self.assertEqual(len(pl.rerun_candidates(first, base_ok)), 1)
        reg, fixed = pl.compare(base_ok, first["cases"])
        self.assertEqual([pl.case_key(c) for c in reg], [timeout_case])
        self.assertEqual([c["case"] for c in fixed], ["x" * 120])

    def test_report_round_trips_as_a_baseline(self):
        first = pl.results_from_log(LOG, "of13", self.dir, seconds=5)
        # A description with a pipe and a backslash must survive the markdown table.
        first["cases"][0]["case"] = "a|b\\c"
        out = os.path.join(self.tmp.name, "report.md")
        tsv = os.path.join(self.tmp.name, "base.tsv")
        with redirect_stdout(io.StringIO()) as so:
            rc = pl.main(["parse", "--log", "/dev/null", "--suite", "of13", "--test-dir", self.dir,
                          "--out", os.path.join(self.tmp.name, "empty.json")])
        self.assertEqual(rc, 0)
        res = os.path.join(self.tmp.name, "r.json")
        with open(res, "w") as f:
            json.dump(first, f)
        with redirect_stdout(io.StringIO()) as so:
            rc = pl.main(["report", res, "--out", out, "--save-baseline", tsv])
        self.assertEqual(rc, 0)
        self.assertIn("action", so.getvalue())
        want = {pl.case_key(c): c["result"] for c in first["cases"]}
        self.assertEqual(pl.load_baseline(out), want)
        self.assertEqual(pl.load_baseline(tsv), want)
        text = open(out).read()
        self.assertIn("| of13 | action | 2 | 2 | 2 | 6 | 5 | 0 |", text)
        self.assertIn("Failed to add flows: BAD_ACTION/BAD_TYPE | 1 |", text)
        # Against a baseline where everything passed: regressions, exit status 1.
        allok = os.path.join(self.tmp.name, "allok.tsv")
        with open(allok, "w") as f:
            for k in want:
                f.write("\t".join(k + (pl.OK,)) + "\n")
        with redirect_stdout(io.StringIO()) as so:
            rc = pl.main(["report", res, "--out", out, "--baseline", allok])
        self.assertEqual(rc, 1)
        self.assertIn("5 regressions", so.getvalue())
        self.assertEqual(so.getvalue().count("REGRESSION"), 5)

    def test_empty_log_is_all_missing(self):
        r = pl.results_from_log("", "of13", self.dir)
        self.assertFalse(r["complete"])
        self.assertEqual(pl.counts(r["cases"]), (0, 0, 6))


if __name__ == "__main__":
    unittest.main()
