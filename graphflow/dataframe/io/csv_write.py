"""`to_csv`: one CSV file per partition, or one file for all (``single_file=True``), as Dask writes them.

Names as in Dask: ``filename`` with a ``*`` is a pattern (the ``*`` becomes
``name_function(i)``, by default the partition number padded so names sort
in order); without one it is a directory holding ``0.part``, ``1.part``, ...
Every file gets the header unless ``header_first_partition_only`` (the default
with ``single_file``, where partitions are appended in order).

Partitions are written by pyarrow's CSV writer when the keywords are ones it
can honour (``sep``, ``na_rep``, ``columns``, ``header``, ``index``,
``index_label``, ``compression``, ``mode``); any other pandas ``to_csv``
keyword (``float_format``, ``date_format``, ``quoting``, ``decimal``, an
encoding other than UTF-8, ...) makes each partition go through pandas'
own ``DataFrame.to_csv``, so its output is pandas' to the byte.  ``index=``
(pandas' default True) writes the frame's stored index as the first columns;
a frame without one has nothing to write there.
"""

from __future__ import annotations

import dataclasses
import io
import os

import pyarrow.csv as pacsv

from ..frame import DataFrame
from ..labels import column_labels
from .csv import reject_keywords
from .index import partition_to_pandas, stored_index
from .paths import check_local, open_output, output_paths
from .writes import SequentialWrite, compute_options, result_paths, write_partitions

__all__ = ["to_csv"]

_ARROW_OK = {"sep", "na_rep", "columns", "header", "index", "index_label"}
_PANDAS_ONLY = {"float_format", "date_format", "quoting", "quotechar", "lineterminator", "doublequote",
                "escapechar", "decimal", "errors", "chunksize"}


@dataclasses.dataclass(frozen=True)
class _CSVWriter:
    """Writes one partition; the same object for every partition of one ``to_csv`` call."""

    levels: tuple            # (arrow column, name) of the index levels to write
    data: tuple              # the Arrow names of the data columns to write, in order
    schema: object           # the frame's plan schema (index names, column labels) for pandas' writer
    labels: tuple            # the column label of each of ``data``
    header: tuple | None     # the header cells (None: no header at all)
    header_first_only: bool
    append: bool
    compression: str | None
    sep: str = ","
    na_rep: str = ""
    pandas_kwargs: tuple = ()  # non-empty: write through pandas with these keywords
    encoding: str = "utf-8"
    native_header: bool = False  # tuple labels: pandas writes its header rows itself

    def __call__(self, table, path, first=True):
        header = self.header is not None and (first or not self.header_first_only)
        append = self.append or not first
        with open_output(path, self.compression, append=append) as f:
            if self.pandas_kwargs:
                f.write(self._pandas_text(table, header).encode(self.encoding))
            else:
                self._arrow_write(table, f, header)
        return path

    def _arrow_write(self, table, f, header):
        cols = [c for c, _ in self.levels] + list(self.data)
        out = table.select(cols)
        if self.header is not None:
            out = out.rename_columns(list(self.header))
        opts = pacsv.WriteOptions(include_header=header, delimiter=self.sep, null_string=self.na_rep)
        buf = io.BytesIO()  # write_csv wants a pyarrow-writable sink; compressed streams are, Python files too
        pacsv.write_csv(out, buf, write_options=opts)
        f.write(buf.getvalue())

    def _pandas_text(self, table, header):
        # the partition as compute() gives it: pandas writes its index and labels as it would its own frame's
        pdf = partition_to_pandas(table, self.schema, index=bool(self.levels))
        pdf = pdf[list(self.labels)]
        kw = dict(self.pandas_kwargs)
        index_label = list(self.header[:len(self.levels)]) if self.header and self.levels else None
        cells = list(self.header[len(self.levels):]) if self.header is not None else False
        if self.header is not None and self.native_header:
            cells = True  # pandas' own header (several rows for tuple labels)
        return pdf.to_csv(None, sep=self.sep, na_rep=self.na_rep, index=bool(self.levels), index_label=index_label,
                          header=cells if header else False, **kw)


def to_csv(df, filename, single_file: bool = False, encoding: str = "utf-8", mode: str = "wt", name_function=None,
           compression=None, compute: bool = True, scheduler=None, storage_options=None,
           header_first_partition_only=None, compute_kwargs=None, **kwargs):
    """Write ``df`` as CSV: one file per partition (``filename`` a directory or a ``*`` pattern) or one file
    (``single_file=True``); returns the file names (``compute=False``: the lazy frame of them).

    ``**kwargs`` are pandas' ``DataFrame.to_csv`` keywords (``sep``, ``na_rep``, ``columns``, ``header``,
    ``index``, ``index_label``, ``float_format``, ``date_format``, ...); an unknown one is a TypeError.
    """
    reject_keywords(kwargs, _ARROW_OK | _PANDAS_ONLY, {}, "to_csv")
    check_local(storage_options, what="to_csv")
    if single_file and name_function is not None:
        raise ValueError("name_function is not supported under the single file mode")
    if header_first_partition_only is None:
        header_first_partition_only = single_file
    elif not header_first_partition_only and single_file:
        raise ValueError("header_first_partition_only cannot be False in the single file mode.")
    if mode.replace("t", "") not in ("w", "a"):
        raise ValueError(f"mode={mode!r}: use 'w' (or 'wt') to write, 'a' (or 'at') to append")
    writer = _writer(df, kwargs, encoding, header_first_partition_only, "a" in mode, compression)
    options = compute_options(compute_kwargs, scheduler)
    if single_file:
        path = os.fspath(filename)
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        out = DataFrame(SequentialWrite(df.expr, writer, path))
        return result_paths(out.compute(**options)) if compute else out
    paths = output_paths(filename, df.npartitions, name_function, default="*.part")
    return write_partitions(df, writer, paths, compute=compute, compute_kwargs=options,
                            partition_args=[(i == 0,) for i in range(df.npartitions)])


def _writer(df, kw, encoding, header_first_only, append, compression) -> _CSVWriter:
    levels = stored_index(df.schema) if kw.get("index", True) else []
    names = df.arrow_names()  # the data columns' Arrow names, and their pandas labels
    labels = dict(zip(names, column_labels(df.schema)))
    data = list(names)
    if kw.get("columns") is not None:
        wanted = [kw["columns"]] if isinstance(kw["columns"], (str, tuple)) else list(kw["columns"])
        by_label = {lab: n for n, lab in labels.items()}
        missing = [c for c in wanted if c not in by_label]
        if missing:
            raise KeyError(f"{missing} not in index")  # pandas' own message for unknown columns=
        data = [by_label[c] for c in wanted]
    header = kw.get("header", True)
    native = header is True and any(isinstance(labels[c], tuple) for c in data)
    if header is False:
        cells = None
    else:
        aliases = [labels[c] for c in data] if header is True else list(header)
        if len(aliases) != len(data):
            raise ValueError(f"Writing {len(data)} cols but got {len(aliases)} aliases")
        label = kw.get("index_label")
        index_cells = ([label] if isinstance(label, str) else list(label)) if label is not None else \
            ["" if n is None else str(n) for _, n in levels]
        if len(index_cells) != len(levels):
            raise ValueError(f"index_label has {len(index_cells)} entries for {len(levels)} index levels")
        cells = tuple(index_cells) + tuple(str(a) for a in aliases)
    pandas_kwargs = tuple((k, v) for k, v in kw.items() if k in _PANDAS_ONLY)
    enc = encoding.lower().replace("-", "").replace("_", "")
    if (native or enc not in ("utf8", "ascii")) and not pandas_kwargs:
        pandas_kwargs = (("errors", "strict"),)  # pandas' text (its header rows; another encoding)
    sep = kw.get("sep", ",")
    if not isinstance(sep, str) or len(sep) != 1:
        raise TypeError('"delimiter" must be a 1-character string')
    return _CSVWriter(levels=tuple(levels), data=tuple(data), schema=df.schema,
                      labels=tuple(labels[c] for c in data), header=cells,
                      header_first_only=header_first_only, append=append, compression=compression, sep=sep,
                      na_rep=kw.get("na_rep", ""), pandas_kwargs=pandas_kwargs, encoding=encoding,
                      native_header=native)
