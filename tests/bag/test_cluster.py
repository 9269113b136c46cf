"""The same bag code on a real two-worker LocalCluster gives the same answers as the sync executor."""

import json
import operator

import pytest

import graphflow as gf
import graphflow.bag as db


@pytest.fixture(scope="module")
def client():
    c = gf.Client(n_workers=2, threads_per_worker=1)
    yield c
    c.close()


def pipeline(path):
    records = db.read_text(path, blocksize=300).map(json.loads)
    errors = records.filter(lambda r: r["status"] >= 500)
    return (
        errors.pluck("path").frequencies().topk(3, key=1),
        records.foldby("path", lambda acc, r: acc + r["bytes"], 0, operator.add),
        records.groupby(lambda r: r["status"]).map(lambda kv: (kv[0], len(kv[1]))),
        records.count(),
        records.pluck("bytes").mean(),
    )


def test_bag_pipeline_on_cluster_matches_sync(client, tmp_path):
    path = tmp_path / "log.jsonl"
    lines = [json.dumps({"path": f"/p{i % 7}", "status": 200 + (i * 37) % 400, "bytes": i}) for i in range(300)]
    path.write_text("\n".join(lines) + "\n")
    collections = pipeline(str(path))
    expected = gf.compute(*collections, scheduler="sync")
    on_cluster = client.compute(list(collections))
    got = client.gather(on_cluster)
    assert sorted(got[0]) == sorted(expected[0]) and sorted(got[1]) == sorted(expected[1])
    assert sorted(got[2]) == sorted(expected[2])
    assert got[3] == expected[3] == 300
    assert got[4] == pytest.approx(expected[4])
    # with the client as the scheduler of gf.compute too
    assert db.compute(collections[3], scheduler=client) == (300,)
    assert collections[0].compute(scheduler=client) == expected[0]
