"""The same dataframe code on a real cluster: gf.Client(n_workers=2, threads_per_worker=1)."""

import pytest

import graphflow as gf
import graphflow.dataframe as gd

from .data import assert_like_pandas, pd, random_table


@pytest.fixture(scope="module")
def client():
    c = gf.Client(n_workers=2, threads_per_worker=1)
    yield c
    c.close()


def test_groupby_on_cluster(client):
    table = random_table(n=5000, seed=61)
    df = gd.from_arrow(table, npartitions=6)
    got = df[df.x > 0].groupby("k").agg({"x": ["sum", "mean"], "y": "max"}).compute()
    pdf = table.to_pandas()
    assert_like_pandas(got, pdf[pdf.x > 0].groupby("k").agg({"x": ["sum", "mean"], "y": "max"}))
    shuffled = df.groupby("k2").y.sum(split_out=2).compute()
    assert_like_pandas(shuffled, pdf.groupby("k2").y.sum(), sort=True)
    assert isinstance(got, pd.DataFrame)


def test_processes_scheduler_runs_every_kind_of_node():
    """Every op pickles: a filter, a groupby shuffle, a shuffle join and a sort on worker processes."""
    table = random_table(n=3000, seed=62)
    df = gd.from_arrow(table, npartitions=4)
    q = df[df.y > 0].groupby("k2").agg({"x": "mean"}, split_out=2)
    j = df.merge(df[["k", "s"]].drop_duplicates(subset=["k"]), on="k", broadcast=False)
    s = df.sort_values("x")
    got_q, got_j, got_s = gf.compute(q, j, s, scheduler="processes")
    pdf = table.to_pandas()
    assert_like_pandas(got_q, pdf[pdf.y > 0].groupby("k2").agg({"x": "mean"}), sort=True)
    assert len(got_j) == table.num_rows
    pd.testing.assert_series_equal(got_s.x, pdf.x.sort_values(ignore_index=True))


def test_shuffle_join_and_groupby_spill_on_a_worker_with_little_memory_and_stay_right(tmp_path):
    """TPC-H SF10 on 2 x 4 GiB, in small: a hash join and a shuffle groupby over ~30 MB of Parquet on two
    workers that may keep only ~12 MB of results in memory each, so shuffle pieces and partitions are spilled
    (the workers' spill folders appear) and read back; the answer is pandas'.

        read(8 files) --shuffle--+
                                 join on k --groupby g (shuffle)--> compute
        read(4 files) --shuffle--+
    """
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(7)
    big, small = tmp_path / "big", tmp_path / "small"
    big.mkdir()
    small.mkdir()
    for i in range(8):
        n = 200_000
        pq.write_table(pa.table({"k": rng.integers(0, 400_000, n), "v": rng.random(n)}), big / f"part.{i}.parquet")
    for i in range(4):
        keys = np.arange(i * 100_000, (i + 1) * 100_000)
        pq.write_table(pa.table({"k": keys, "g": keys % 150_000}), small / f"part.{i}.parquet")
    spill_root = tmp_path / "spill"
    spill_root.mkdir()
    memory = {"target": 0.05, "spill": False, "pause": False, "terminate": False}  # 5% of 256 MiB in memory
    with gf.Client(n_workers=2, threads_per_worker=1, memory_limit="256MiB", memory=memory,
                   local_directory=str(spill_root), dashboard_address=None) as client:
        joined = gd.read_parquet(str(big)).merge(gd.read_parquet(str(small)), on="k", broadcast=False)
        got = joined.groupby("g").v.sum(split_out=4).compute(scheduler=client)
        # a worker makes its spill folder on its first spill (graphflow.store.spill)
        spilled = [p for p in spill_root.iterdir() if p.name.startswith("graphflow-spill-")]
        assert spilled, "no worker spilled"
    a, b = pd.read_parquet(big), pd.read_parquet(small)
    want = a.merge(b, on="k").groupby("g").v.sum()
    assert len(got) == len(want)
    pd.testing.assert_series_equal(got.sort_index(), want.sort_index(), check_names=False, rtol=1e-9)
