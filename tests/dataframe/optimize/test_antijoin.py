"""The anti-join rule: a left merge with ``indicator=True`` kept where ``_merge == "left_only"``.

    Filter(_merge == "left_only")              MarkMatches
      MarkMatches(left)             ==>          AntiJoin
        Join(left)                                 <left>  <right>
          <left>  <right>
"""

import pandas as pd
import pytest

import graphflow.dataframe as gd
from graphflow.dataframe.indicator import AntiJoin
from graphflow.dataframe.optimize import optimize_plan
from graphflow.dataframe.optimize.antijoin import rewrite_anti_joins
from graphflow.dataframe.plan import Blockwise, Filter, walk


def _ops(plan):
    return [type(n.op).__name__ for n in walk(plan) if isinstance(n, Blockwise)]


@pytest.fixture
def frames():
    left = pd.DataFrame({"k": [1, 2, 3, 4, 4, None], "v": list("abcdef")})
    right = pd.DataFrame({"k": [2.0, 4.0, 4.0, 9.0], "w": [1.0, 2.0, 3.0, 4.0]})
    return left, right, gd.from_pandas(left, npartitions=2), gd.from_pandas(right, npartitions=2)


@pytest.mark.parametrize("broadcast", [None, False])
def test_rule_makes_an_anti_join(frames, broadcast):
    left, right, a, b = frames
    m = a.merge(b, on="k", how="left", indicator=True, broadcast=broadcast)
    kept = m[m._merge == "left_only"]
    plan = rewrite_anti_joins(kept.expr)
    ops = _ops(plan)
    assert "AntiJoin" in ops and "Filter" not in ops and "_Join" not in ops and "_BroadcastJoin" not in ops
    assert plan.schema == kept.expr.schema  # same columns and types as the merge
    got = kept.compute(scheduler="sync")
    want = left.merge(right, on="k", how="left", indicator=True)
    want = want[want._merge == "left_only"]
    pd.testing.assert_frame_equal(got.sort_values("v", ignore_index=True), want.sort_values("v", ignore_index=True),
                                  check_dtype=False)


def test_rule_runs_in_the_pipeline_before_predicates(frames):
    _, _, a, b = frames
    m = a.merge(b, on="k", how="left", indicator=True)
    plan = optimize_plan(m[m._merge == "left_only"].expr, until="antijoin")
    assert any(isinstance(n, Blockwise) and isinstance(n.op, AntiJoin) for n in walk(plan))


def test_rule_leaves_a_shared_merge_alone(frames):
    """The merge has another reader needing the matched rows: nothing changes."""
    _, _, a, b = frames
    m = a.merge(b, on="k", how="left", indicator=True)
    both = gd.concat([m[m._merge == "left_only"], m])
    assert rewrite_anti_joins(both.expr) is both.expr


@pytest.mark.parametrize("test", ["both", "right_only"])
def test_rule_leaves_other_tests_alone(frames, test):
    _, _, a, b = frames
    m = a.merge(b, on="k", how="left", indicator=True)
    kept = m[m._merge == test]
    plan = rewrite_anti_joins(kept.expr)
    assert plan is kept.expr and isinstance(plan.op, Filter)


def test_rule_leaves_outer_merges_alone(frames):
    left, right, a, b = frames
    m = a.merge(b, on="k", how="outer", indicator=True)
    kept = m[m._merge == "left_only"]
    assert rewrite_anti_joins(kept.expr) is kept.expr
    want = left.merge(right, on="k", how="outer", indicator=True)
    assert len(kept.compute(scheduler="sync")) == (want._merge == "left_only").sum()
