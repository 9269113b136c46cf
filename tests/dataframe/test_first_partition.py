"""first_partition_is_cheap: which plans the groupby may sample by computing partition 0 up front.

    read -> filter -> merge(small, broadcast)      cheap: one input partition's work
    read -> shuffle -> merge                       not cheap: partition 0 needs every input partition
"""

import pandas as pd
import pytest

import graphflow.dataframe as gd
from graphflow.dataframe.first_partition import first_partition_is_cheap
from graphflow.local.callbacks import Callback


@pytest.fixture
def frames():
    a = pd.DataFrame({"k": [i % 7 for i in range(40)], "x": [float(i) for i in range(40)]})
    b = pd.DataFrame({"k": range(7), "g": list("abcabca")})
    return a, b, gd.from_pandas(a, npartitions=4, sort=False), gd.from_pandas(b, npartitions=1, sort=False)


def test_partitionwise_and_small_broadcast_are_cheap(frames):
    _, _, ga, gb = frames
    assert first_partition_is_cheap(ga.expr)
    assert first_partition_is_cheap(ga[ga.x > 3].assign(y=ga.x * 2).expr)
    assert first_partition_is_cheap(ga.merge(gb, on="k", broadcast=True).expr)
    assert first_partition_is_cheap(ga.partitions[1:3].expr)


def test_shuffles_sorts_groupbys_and_big_broadcasts_are_not(frames):
    _, _, ga, gb = frames
    assert not first_partition_is_cheap(ga.merge(gb, on="k", broadcast=False).expr)
    assert not first_partition_is_cheap(ga.sort_values("x").expr)
    assert not first_partition_is_cheap(ga.groupby("k").x.sum().expr)
    # a lazy scalar over all four partitions of ga, broadcast to every row
    assert not first_partition_is_cheap(ga.assign(share=ga.x / ga.x.sum()).expr)


@pytest.mark.api("DataFrameGroupBy.sum")
def test_groupby_after_a_shuffle_join_computes_nothing_while_building(frames):
    """Building a groupby over a hash join's output (and asking its npartitions) runs no task: it used to
    compute the whole join once on the sync scheduler to count partition 0's groups.  The answer is pandas'."""
    a, b, ga, gb = frames
    ran = []
    with Callback(task_start=ran.append):
        q = ga.merge(gb, on="k", broadcast=False).groupby("g").x.sum()
        assert q.npartitions == 1
    assert ran == []
    pd.testing.assert_series_equal(q.compute(scheduler="sync").sort_index(),
                                   a.merge(b, on="k").groupby("g").x.sum().sort_index())
