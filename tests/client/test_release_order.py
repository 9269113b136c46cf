"""A future's release never overtakes work that was submitted, using that future, before it was dropped.

Found by the fault suite (``python -m benchmarks faults``, elastic seed 96): ``client.submit(total,
client.map(plus_one, squares))`` failed once in a hundred runs with ``MissingDependencyError: task
'total-...' depends on 'plus_one-...', which is neither in the submitted graph nor held``.  The
caller's thread packs the submission and queues it on the I/O loop; the plus_one futures are dropped
as ``submit`` returns; the I/O loop's periodic job sends the batch of released keys.  When that job
already had its turn in the loop's current round, it sent the release *before* the queued submission,
the scheduler forgot the plus_one keys, and then refused ``total``.
"""

import gc
import threading

import graphflow as gf
from graphflow.testing.cluster import InProcessCluster


def inc(x):
    return x + 1


def test_a_release_goes_out_behind_the_submission_queued_before_it():
    with InProcessCluster(n_workers=1) as cluster:
        with gf.Client(cluster.address, token=cluster.token, set_as_default=False) as client:
            p = client.submit(inc, 1, pure=False)
            assert p.result(timeout=10) == 2
            gate = threading.Event()

            def releases_in_this_round():  # the periodic job, run where the race put it
                gate.wait(10)
                client._send_releases()

            client.session.loop.add_callback(releases_in_this_round)  # the loop is busy with it from now
            t = client.submit(inc, p, pure=False)  # queued on the loop behind it
            key = p.key
            del p
            gc.collect()
            assert key not in client.refs  # released: the next batch names it
            gate.set()
            assert t.result(timeout=10) == 3
