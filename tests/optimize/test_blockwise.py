"""graphflow.optimize.blockwise: same-block chains fuse; a reader that gathers sibling blocks does not swallow one."""

from __future__ import annotations

from operator import add, neg

from graphflow.optimize.blockwise import fuse_blockwise
from graphflow.spec import FusedTask, Ref, Task, TaskGraph


def test_same_block_chain_fuses_into_its_root():
    """x(0) -> y(0) -> z(0): one task under z(0)."""
    g = TaskGraph([Task(("x", 0), abs, -1), Task(("y", 0), neg, Ref(("x", 0))), Task(("z", 0), neg, Ref(("y", 0)))])
    f = fuse_blockwise(g, [("z", 0)])
    assert list(f) == [("z", 0)] and isinstance(f[("z", 0)], FusedTask)


def test_a_gathering_reader_keeps_every_sibling_block_its_own_task():
    """A reduction level whose key happens to carry block 0's index::

        chunk(0,0)  chunk(0,1)  chunk(1,0)  chunk(1,1)
               \\        |          |        /
                 ----- combine(0,0) -----

    chunk(0,0) has one reader with its own index, but folding it in would run it
    only after its three siblings, alone: it stays a task, so all four run in parallel.
    """
    tasks = [Task(("chunk", i, j), abs, -(2 * i + j)) for i in range(2) for j in range(2)]
    refs = [Ref(t.key) for t in tasks]
    g = TaskGraph(tasks + [Task(("combine", 0, 0), lambda *a: sum(a), *refs)])
    f = fuse_blockwise(g, [("combine", 0, 0)])
    assert sorted(f) == sorted([t.key for t in tasks] + [("combine", 0, 0)])
    assert not any(isinstance(n, FusedTask) for n in f.values())


def test_input_chain_still_fuses_into_each_gathered_block():
    """random(i) -> chunk(i) fuse per block; chunk(0) is not pulled into combine(0)."""
    tasks = [Task(("random", i), abs, -i) for i in range(3)]
    tasks += [Task(("chunk", i), neg, Ref(("random", i))) for i in range(3)]
    tasks.append(Task(("combine", 0), add, Ref(("chunk", 0)), Ref(("chunk", 1))))
    tasks.append(Task(("total", 0, 0), add, Ref(("combine", 0)), Ref(("chunk", 2))))
    f = fuse_blockwise(TaskGraph(tasks), [("total", 0, 0)])
    assert sorted(k for k in f if k[0] == "chunk") == [("chunk", 0), ("chunk", 1), ("chunk", 2)]
    assert all(isinstance(f[("chunk", i)], FusedTask) for i in range(3))
    assert ("random", 0) not in f
