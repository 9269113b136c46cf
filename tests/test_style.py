"""The flake8 settings in setup.cfg hold for the whole tree."""

import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.mark.timeout(600)  # the whole tree takes ~40 s quiet and past 120 s on a loaded 2-core machine
def test_flake8_is_clean():
    out = subprocess.run([sys.executable, "-m", "flake8", "graphflow", "tests", "benchmarks"],
                         cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
