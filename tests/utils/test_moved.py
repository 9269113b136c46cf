"""Old module paths (before the package tree was organized by layer) still import, with a warning."""

import importlib
import subprocess
import sys

import pytest

from graphflow.utils.moved import MOVED


@pytest.mark.parametrize("old", sorted(MOVED))
def test_every_old_path_imports_the_module_at_its_new_place(old):
    with pytest.warns(DeprecationWarning, match=MOVED[old].replace(".", r"\.")):
        module = importlib.import_module(old)
    assert module is importlib.import_module(MOVED[old])


def test_old_names_work_in_a_fresh_interpreter_and_unknown_ones_still_fail():
    code = ("import warnings; warnings.simplefilter('ignore')\n"
            "from graphflow.cluster import LocalCluster\n"
            "from graphflow.futures import wait\n"
            "import graphflow.deploy, graphflow.client\n"
            "assert LocalCluster is graphflow.deploy.LocalCluster and wait is graphflow.client.wait\n"
            "try:\n    import graphflow.no_such_module\nexcept ModuleNotFoundError:\n    print('ok')\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr
