"""The notebooks in notebooks/ run top to bottom without an error, and are committed without outputs.

Each notebook is executed by nbclient in a fresh kernel of *this* interpreter
(the project's .venv, whatever ``python`` on PATH or a user's kernelspec says:
the kernelspec is written into a temporary directory with ``sys.executable``),
with the kernel's working directory in a temporary directory so the Parquet
and spill files a notebook writes never land in the repository.
"""

from __future__ import annotations

import os
import pathlib
import re
import sys

import pytest

nbformat = pytest.importorskip("nbformat")
pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

NOTEBOOKS = pathlib.Path(__file__).resolve().parent.parent / "notebooks"
PATHS = sorted(NOTEBOOKS.glob("*.ipynb"))
CELL_TIMEOUT = 120  # seconds per cell; every notebook runs in well under a minute here
KERNEL = "python3"


def test_notebooks_exist():
    """At least the six tutorials (issue 8: five, issue 10: the adaptive search) are there."""
    assert len(PATHS) >= 6, [p.name for p in PATHS]


@pytest.fixture(scope="module")
def kernel_specs(tmp_path_factory):
    """A KernelSpecManager whose only ``python3`` kernel runs ``sys.executable``."""
    from ipykernel.kernelspec import write_kernel_spec
    from jupyter_client.kernelspec import KernelSpecManager

    kernels = tmp_path_factory.mktemp("kernels")
    write_kernel_spec(str(kernels / KERNEL))
    manager = KernelSpecManager(kernel_dirs=[str(kernels)], ensure_native_kernel=False)
    spec = manager.get_kernel_spec(KERNEL)
    assert spec.argv[0] == sys.executable, spec.argv
    return manager


@pytest.mark.slow
@pytest.mark.timeout(CELL_TIMEOUT * 3)  # the per-cell timeout fires first, naming the cell
@pytest.mark.parametrize("path", PATHS, ids=[p.stem for p in PATHS])
def test_notebook_runs(path, kernel_specs, tmp_path, monkeypatch):
    """Execute every cell; any error fails the test with the cell and its traceback."""
    from jupyter_client.manager import KernelManager
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    nb = nbformat.read(path, as_version=4)
    # The kernel inherits the environment: no GRAPHFLOW_* override of ours may leak in,
    # and matplotlib-style backends must not try a display.
    monkeypatch.setenv("MPLBACKEND", "Agg")
    for name in [n for n in os.environ if n.startswith("GRAPHFLOW_") and n != "GRAPHFLOW_LOGGING_LEVEL"]:
        monkeypatch.delenv(name)
    km = KernelManager(kernel_name=KERNEL, kernel_spec_manager=kernel_specs)
    client = NotebookClient(nb, km=km, timeout=CELL_TIMEOUT, startup_timeout=60, allow_errors=False,
                            resources={"metadata": {"path": str(tmp_path)}})
    try:
        client.execute()
    except CellExecutionError as exc:
        message = re.sub(r"\x1b\[[0-9;]*m", "", str(exc))  # IPython colours its tracebacks
        pytest.fail(f"{path.name}: a cell failed\n{message}", pytrace=False)


@pytest.mark.parametrize("path", PATHS, ids=[p.stem for p in PATHS])
def test_notebook_committed_clean(path):
    """No outputs, no execution counts, a python3 kernel: so a diff shows only what was written."""
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert nb.nbformat == 4
    assert nb.metadata.get("kernelspec", {}).get("name") == KERNEL
    dirty = [i for i, cell in enumerate(nb.cells)
             if cell.cell_type == "code" and (cell.get("outputs") or cell.get("execution_count") is not None)]
    assert not dirty, f"{path.name}: cells {dirty} have outputs or execution counts; clear them before committing"
    assert nb.cells and nb.cells[0].cell_type == "markdown", f"{path.name} should open with a markdown title"
