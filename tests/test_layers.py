"""The package tree's layers hold: `lint-imports` checks the contracts in pyproject.toml.

The contracts (``[tool.importlinter]``): each layer of the README's tree imports
only the layers below it; ``spec`` and ``optimize`` import no runtime; the
scheduler and the worker never import each other, the client or a collection;
collections never import the scheduler, the worker, comm or the store; and no
package or module at any level takes part in an import cycle.  Imports inside
functions count.  A new upward import fails this test, so CI catches it.
"""

import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_import_contracts_are_kept():
    done = subprocess.run(
        [sys.executable, "-c", "import sys; from importlinter.cli import lint_imports_command as m; "
                               "sys.argv = ['lint-imports', '--no-cache']; m()"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    assert "kept, 0 broken" in done.stdout, done.stdout[-2000:]
