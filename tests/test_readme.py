"""The README opens with the two commands, and its Python code runs as written."""

import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def readme() -> str:
    with open(os.path.join(ROOT, "README.md")) as f:
        return f.read()


def test_readme_opens_with_demo_and_test_commands():
    first_block = re.search(r"```sh\n(.*?)```", readme(), re.S).group(1)
    commands = [line.split("#")[0].strip() for line in first_block.strip().splitlines()]
    assert commands == ["make demo", "make test"]


def test_quickstart_runs_as_written(tmp_path):
    blocks = re.findall(r"```python\n(.*?)```", readme(), re.S)
    assert blocks
    script = tmp_path / "quickstart.py"
    # As written: top-level code, no main guard, even with scheduler="processes".
    script.write_text("\n".join(blocks))
    out = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0] == "2107"
    assert lines[1].startswith("(2107, [")
    assert lines[2] == "2107"
    assert lines[-3:] == ["2107", "3 90", "[0, 2, 4]"]
    assert (tmp_path / "quickstart.dot").exists()
