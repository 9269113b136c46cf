"""The graphflow command, the demo, and what `import graphflow` costs."""

import os
import subprocess
import sys

import graphflow
from graphflow.cli import main

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_version(capsys):
    try:
        main(["--version"])
    except SystemExit as exc:
        assert exc.code == 0
    assert graphflow.__version__ in capsys.readouterr().out


def test_no_command_prints_help(capsys):
    assert main([]) == 2
    assert "demo" in capsys.readouterr().out


def test_demo_checks_its_answers(tmp_path):
    out = subprocess.run([sys.executable, "-m", "graphflow", "demo", "--tasks", "2000",
                          "--output", str(tmp_path / "g.dot")],
                         capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "every answer was checked" in out.stdout
    for name in ("sync", "threads", "processes", "cluster"):
        assert f"{name}: 2001000" in out.stdout
    assert (tmp_path / "g.dot").exists()


def test_console_script_is_installed():
    exe = os.path.join(os.path.dirname(sys.executable), "graphflow")
    out = subprocess.run([exe, "--version"], capture_output=True, text=True)
    assert out.returncode == 0 and "graphflow" in out.stdout


def test_import_is_light():
    code = ("import sys, graphflow; heavy = ['numpy', 'pyarrow', 'zmq', 'tornado', 'networkx', 'cloudpickle', "
            "'multiprocessing', 'concurrent.futures']; print([m for m in heavy if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
