"""pytest plugin: records the Dask names each ``api``-marked test names, and how the test ended.

Loaded by `marked` as ``pytest -p benchmarks.api_coverage.plugin
--api-record FILE``.  It registers the ``api`` marker (setup.cfg does too, for
ordinary runs) and at the end of the session writes ``FILE``::

    {"tests": [{"nodeid": "tests/dataframe/test_api_marked.py::test_isin",
                "names": ["Series.isin"], "outcome": "passed"}, ...],
     "collection_errors": ["tests/dataframe/test_broken.py"], "exitstatus": 0}

A test's outcome is ``failed`` if any phase (setup, call, teardown) failed,
else ``skipped`` if it was skipped or xfailed, else ``passed``.  Marks on a
class or a module (``pytestmark``) count for every test under them.
"""

from __future__ import annotations

import json

MARKER = ("api(*names): the Dask API names (\"Series.isin\", \"dd.concat\") this test compares with "
          "Dask, pandas or numpy on the same input; counted by python -m benchmarks.api_coverage")


def pytest_addoption(parser):
    parser.addoption("--api-record", metavar="FILE", default=None,
                     help="write the api-marked tests' names and outcomes to FILE (JSON)")


def pytest_configure(config):
    config.addinivalue_line("markers", MARKER)
    path = config.getoption("--api-record")
    if path:
        config.pluginmanager.register(Recorder(path), "api-coverage-recorder")


class Recorder:
    """Collects names and outcomes during the session and writes them when it ends."""

    def __init__(self, path: str):
        self.path = path
        self.names: dict = {}
        self.outcomes: dict = {}
        self.collection_errors: list = []

    def pytest_itemcollected(self, item):
        names = [str(n) for mark in item.iter_markers("api") for n in mark.args]
        if names:
            self.names[item.nodeid] = names

    def pytest_collectreport(self, report):
        if report.failed:
            self.collection_errors.append(report.nodeid)

    def pytest_runtest_logreport(self, report):
        if report.nodeid not in self.names:
            return
        before = self.outcomes.get(report.nodeid)
        if report.failed:
            self.outcomes[report.nodeid] = "failed"
        elif report.skipped and before != "failed":
            self.outcomes[report.nodeid] = "skipped"
        elif report.when == "call" and report.passed and before is None:
            self.outcomes[report.nodeid] = "passed"

    def pytest_sessionfinish(self, session, exitstatus):
        tests = [{"nodeid": nodeid, "names": self.names[nodeid], "outcome": outcome}
                 for nodeid, outcome in self.outcomes.items()]
        with open(self.path, "w") as f:
            json.dump({"tests": tests, "collection_errors": self.collection_errors,
                       "exitstatus": int(exitstatus)}, f, indent=1)
