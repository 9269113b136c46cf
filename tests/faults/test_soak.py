"""The soak benchmark end to end at its --quick size: rounds of map, RSS per process and round, the bound."""

import json
import os
import subprocess
import sys

from benchmarks.soak_cases import growth_ok

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_quick_soak_reports_each_process_rss_and_checks_the_bound(tmp_path):
    out_json = tmp_path / "soak.json"
    out = subprocess.run([sys.executable, "-m", "benchmarks", "soak", "--quick", "--json", str(out_json)],
                         cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stderr.count("soak round") == 4  # one progress line per round, with every process's RSS
    (result,) = json.loads(out_json.read_text())["results"]
    (counts,) = result["counts"]["graphflow"]
    for process in ("scheduler", "worker0", "worker1", "client"):
        assert 10 < counts[f"{process}_r1_mib"] < 2000, counts
        assert abs(counts[f"{process}_growth_mib"] - (counts[f"{process}_r4_mib"] - counts[f"{process}_r2_mib"])) <= 1
    assert counts["scheduler_bounded"] in (0, 1) and counts["restarted_workers"] == 0
    assert "RSS last round <=" in out.stdout


def test_the_growth_bound():
    assert growth_ok(200, 200 * 1.1 + 16) and not growth_ok(200, 200 * 1.1 + 17)
    assert growth_ok(100, 90)  # shrinking is fine
