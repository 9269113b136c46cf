"""What every writer shares: one write task per partition (or a chain of them into one file), and running them.

A writer turns each partition into a file with a function
``write(table, *args) -> path`` and collects the paths: `write_partitions`
makes the lazy one-column frame of written paths (``compute=False`` returns
it) and computes it unless asked not to.  `SequentialWrite` is for one
output file (``to_csv(single_file=True)``): partition ``i`` is appended
after partition ``i - 1`` has been, so partitions stay where they are and
the file's rows are in partition order, as Dask does it.

    >>> import os, tempfile, pyarrow.csv as pacsv
    >>> import graphflow.dataframe as gd
    >>> d = tempfile.mkdtemp()
    >>> def write(t, path):
    ...     pacsv.write_csv(t, path)
    ...     return path
    >>> df = gd.from_dict({"a": [1, 2, 3]}, npartitions=3)
    >>> [os.path.basename(p) for p in write_partitions(df, write, [os.path.join(d, f"{i}.csv") for i in range(3)])]
    ['0.csv', '1.csv', '2.csv']
"""

from __future__ import annotations

import pyarrow as pa

from ...spec import Ref, Task
from ...utils.traverse import identity
from ..frame import DataFrame
from ..plan import Blockwise, Concat, Func, PlanNode

__all__ = ["write_partitions", "SequentialWrite", "PATHS", "compute_options", "result_paths"]

PATHS = pa.schema([("path", pa.string())])


def _as_path_table(table, write, path, *args, **kwargs):
    written = write(table, path, *args, **kwargs)  # one path, or a list (a partition written to several files)
    return pa.table({"path": [written] if isinstance(written, str) else list(written)}, schema=PATHS)


def compute_options(compute_kwargs=None, scheduler=None) -> dict:
    """Dask's ``compute_kwargs=`` plus its older ``scheduler=`` keyword, as ``compute``'s keywords."""
    out = dict(compute_kwargs or {})
    if scheduler is not None:
        if out.get("scheduler") not in (None, scheduler):
            raise ValueError(f"scheduler={scheduler!r} and compute_kwargs={{'scheduler': {out['scheduler']!r}}} "
                             "disagree; give one")
        out["scheduler"] = scheduler
    return out


def result_paths(result) -> list:
    """The paths in a computed frame of paths (a pyarrow Table, or a pandas DataFrame)."""
    col = result["path"]
    return col.to_pylist() if hasattr(col, "to_pylist") else list(col)


def write_partitions(df, write, paths, *args, compute: bool = True, compute_kwargs=None, partition_args=None,
                     **kwargs):
    """``write(partition_i, paths[i], *partition_args[i], *args, **kwargs)`` for every partition; the paths
    it returns (a list), or with ``compute=False`` the lazy frame of them."""
    per = partition_args or [()] * df.npartitions
    parts = [Blockwise(Func(_as_path_table, write, paths[i], *per[i], *args, **kwargs), (df.partitions[i].expr,),
                       PATHS) for i in range(df.npartitions)]
    out = DataFrame(Concat(parts, PATHS))
    return result_paths(out.compute(**(compute_kwargs or {}))) if compute else out


class SequentialWrite(PlanNode):
    """Write partition 0, then append partition 1, ... to one file; one output partition: the file's path.

    ``write(table, path, first: bool, after) -> path``, where ``after`` is the previous task's result (its
    only use is to order the tasks).
    """

    label = "write-sequential"

    def __init__(self, child, write, path, args=()):
        self.children = (child,)
        self.write, self.path, self.args = write, path, tuple(args)
        self._schema = PATHS
        self._npartitions = 1

    def params(self):
        from ...spec import tokenize

        return (tokenize(self.write), self.path, tokenize(self.args))

    def with_children(self, children):
        return SequentialWrite(children[0], self.write, self.path, self.args)

    def tasks(self):
        child = self.children[0]
        out, prev = [], None
        for i in range(child.npartitions):
            key = (self.name + "-append", i)
            out.append(Task(key, _append_step, self.write, Ref((child.name, i)), self.path, i == 0,
                            None if prev is None else Ref(prev), *self.args))
            prev = key
        out.append(Task((self.name, 0), identity, Ref(prev)))
        return out


def _append_step(write, table, path, first, after, *args):
    return _as_path_table(table, write, path, first, *args)
