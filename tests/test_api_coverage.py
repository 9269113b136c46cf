"""The API coverage tool (benchmarks/api_coverage) counts only names that exist and whose marked test passed.

Three levels: the pure counting rules; a fake group whose "Dask" and
"graphflow" are classes defined here and whose marked tests are written to a
temporary directory and run by the tool's own pytest child (one passes, one
fails, one is skipped, one names an absent method, one a typo, one module does
not import); and the real ``dataframe`` group through the command line,
restricted to ``tests/dataframe/test_api_marked.py``.
"""

import doctest
import json
import textwrap

import pytest

from benchmarks.api_coverage import count, excluded, groups, measure
from benchmarks.api_coverage.__main__ import main
from benchmarks.api_coverage.count import ABSENT, FAILING, HAVE, UNTESTED
from benchmarks.api_coverage.groups import Group, SubGroup
from benchmarks.api_coverage.report import format_text


@pytest.mark.parametrize("module", [count, excluded, groups, measure])
def test_docstring_examples(module):
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0


def test_status_rules():
    assert count.status(True, ["passed"]) == HAVE
    assert count.status(True, ["passed", "failed"]) == FAILING      # one failing comparison: it does not work
    assert count.status(True, ["skipped"]) == UNTESTED              # a skipped test proves nothing
    assert count.status(True, []) == UNTESTED                       # present without a test does not count
    assert count.status(False, ["passed"]) == ABSENT                # a passing test of a missing attribute


def test_marks_outside_the_count_are_reported():
    by_name = {"DataFrame.expr": [("t1", "passed")], "DataFrame.mergee": [("t2", "passed")],
               "Dataframe.merge": [("t3", "passed")], "DataFrame.merge": [("t4", "passed")]}
    cov = count.cover("DataFrame", "DataFrame", ["DataFrame.merge"], {"DataFrame.merge"}, by_name,
                      excluded={"DataFrame.expr": "internal"})
    assert cov.have == cov.total == 1 and cov.met
    assert cov.unknown_marks == {"DataFrame.expr": "excluded: internal", "DataFrame.mergee": "Dask has no such name"}
    assert count.stray_marks(by_name, ["DataFrame"]) == {"Dataframe.merge": ["t3"]}


class FakeDask:
    """Stands for a Dask class: five public names."""

    def a(self): ...
    def b(self): ...
    def c(self): ...
    def d(self): ...
    def e(self): ...
    def _private(self): ...


class FakeGraphflow:
    """Stands for graphflow's counterpart: lacks ``d``; ``__getattr__`` must not make it look present."""

    def a(self): ...
    def b(self): ...
    def c(self): ...
    def e(self): ...

    def __getattr__(self, name):
        return "a column"


FAKE_TESTS = '''
import pytest

@pytest.mark.api("Fake.a")
def test_a():
    assert [1, 2] == [1, 2]

@pytest.mark.api("Fake.b")
def test_b():
    assert [1, 2] == [2, 1]

@pytest.mark.api("Fake.d")
def test_d_which_graphflow_lacks():
    pass

@pytest.mark.skip(reason="not yet")
@pytest.mark.api("Fake.e")
def test_e():
    pass

@pytest.mark.api("Fake.zz", "Nope.x")
def test_typos():
    pass

def test_unmarked_is_not_run():
    assert False
'''


@pytest.fixture
def fake(tmp_path):
    (tmp_path / "test_fake.py").write_text(textwrap.dedent(FAKE_TESTS))
    (tmp_path / "test_broken.py").write_text("import no_such_module_anywhere\n")
    group = Group("fake", tests=(str(tmp_path),), subgroups=(
        SubGroup("Fake", "Fake", lambda: [FakeDask], lambda: [FakeGraphflow()]),))
    return group, tmp_path


def test_fake_group_counts_only_present_and_passing(fake):
    group, path = fake
    m = measure.measure([group], tests=[str(path)])
    cov = m.groups[0].coverages[0]
    assert cov.statuses == {"Fake.a": HAVE, "Fake.b": FAILING, "Fake.c": UNTESTED, "Fake.d": ABSENT,
                            "Fake.e": UNTESTED}
    assert (cov.have, cov.total, cov.present) == (1, 5, 4) and not cov.met
    assert list(cov.marked_absent) == ["Fake.d"]
    assert cov.unknown_marks == {"Fake.zz": "Dask has no such name"}
    assert list(m.stray) == ["Nope.x"]
    # only marked tests ran; the module that does not import is named, and did not stop the others
    assert m.run.outcomes == {"passed": 3, "failed": 1, "skipped": 1}, m.run.output
    assert [e.rpartition("/")[2] for e in m.run.collection_errors] == ["test_broken.py"]
    text = format_text(m)
    assert "Fake                 1      5   20.0%" in text
    assert "failing: Fake.b (" in text and "marked but missing on graphflow: Fake.d" in text
    assert "could not collect" in text and "marked with no known prefix: Nope.x" in text


def test_a_group_graphflow_lacks_reports_zero():
    group = Group("ghost", tests=("tests/no_such_dir",), subgroups=(
        SubGroup("Ghost", "Ghost", lambda: [FakeDask], lambda: [__import__("graphflow.no_such_module")]),))
    cov = measure.measure([group]).groups[0].coverages[0]
    assert cov.have == cov.present == 0 and cov.total == 5
    assert "graphflow has nothing to compare yet" in cov.note


def test_dataframe_group_from_the_command_line(capsys):
    path = "tests/dataframe/test_api_marked.py"
    assert main(["dataframe", "--tests", path, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["tests"]["outcomes"].get("failed", 0) == 0 and report["tests"]["count"] > 0
    subs = {s["prefix"]: s for s in report["groups"]["dataframe"]["subgroups"]}
    assert list(subs) == ["DataFrame", "Series", "GroupBy", "dd"]
    have = {n for s in subs.values() for n in s["names"]["have"]}
    assert {"Series.isin", "DataFrame.dropna", "GroupBy.sum", "dd.from_pandas"} <= have
    marked = {n for s in subs.values() for n in s["tests"]}
    assert have <= marked                                           # nothing counts without a test
    untested = {n for s in subs.values() for n in s["names"]["untested"]}
    assert untested and not untested & marked
    assert "DataFrame.expr" in subs["DataFrame"]["excluded"] and "DataFrame.merge" not in subs["DataFrame"]["excluded"]
    assert subs["DataFrame"]["total"] > 100 and "dd.core" in subs["dd"]["excluded"]


def test_bad_group_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as e:
        main(["dataframes"])
    assert e.value.code == 2 and "unknown group dataframes" in capsys.readouterr().err


def test_every_exclusion_names_something_dask_has():
    """A stale line in excluded.py (Dask renamed or dropped the name) is found here, not kept silently."""
    found = {name for g in groups.GROUPS.values() for sub in g.subgroups for name in groups.inventory(sub).excluded}
    assert set(excluded.EXCLUDED) <= found, sorted(set(excluded.EXCLUDED) - found)
