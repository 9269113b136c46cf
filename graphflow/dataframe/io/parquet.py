"""`read_parquet`: one partition per row group (or per file), with Dask's keywords.

The `ReadParquet` plan node carries the columns to read and an optional
predicate (a `ColExpr`); the optimizer fills both in from what happens
downstream (projection and predicate pushdown), so

    df = read_parquet("trips/")
    df[df.fare > 0][["vendor", "tip"]]

reads only ``vendor``, ``tip`` and ``fare`` and hands ``fare > 0`` to the
read task, which skips row groups whose min/max statistics rule it out
(`stats.excluded`), filters the others as soon as they are decoded, and
drops ``fare`` after filtering when nothing downstream reads it.  ``explain()`` shows the result:
``ReadParquet[...] columns=[...] filter=(fare > 0)``.  ``filters=`` in
pyarrow's/Dask's DNF form (``[("x", ">", 0)]``, or a list of such lists:
OR of ANDs) is the same predicate, given up front.

A directory of hive-partitioned files (``year=2024/...``, what
``to_parquet(partition_on=)`` writes) gives the partition values as
categorical columns (`hive`); a predicate on them skips whole files without
opening them.  ``index=`` names the column(s) to use as the index; by default
the index a pandas-written file declares in its metadata is used, as Dask
does (``index=False``: none).

Every task reads its piece with ``ParquetFile`` on one thread (the
parallelism is across partitions).
"""

from __future__ import annotations

import json
import os

import pyarrow as pa
import pyarrow.parquet as pq

from ...spec import Task
from ..colexpr import Call, Col, Lit, evaluate_on
from ..frame import DataFrame, check_columns
from ..plan import PlanNode, filter_table
from .csv import reject_keywords
from .hive import HiveLayout
from .index import set_index_columns
from .metadata import file_metadata, open_parquet
from .paths import check_local, expand_with_roots
from .stats import conjuncts, excluded

__all__ = ["read_parquet", "ReadParquet", "check_engine", "dnf_to_expr"]

_EXTENSIONS = (".parq", ".parquet", ".pq")


class ReadParquet(PlanNode):
    """Source node: ``pieces`` are (path, row group or None); ``columns`` and ``predicate`` are pushed in;
    ``hive`` (a `HiveLayout` over the pieces' files, or None) adds the partition columns."""

    label = "read-parquet"

    def __init__(self, pieces, full_schema: pa.Schema, columns=None, predicate=None, hive=None, piece_files=None):
        self.pieces = tuple(pieces)
        self.full_schema = full_schema
        self.columns = None if columns is None else tuple(columns)
        self.predicate = predicate
        self.hive = hive
        self.piece_files = tuple(piece_files) if piece_files is not None else (0,) * len(self.pieces)
        names = full_schema.names if columns is None else self.columns
        self._schema = pa.schema([full_schema.field(n) for n in names])
        self._npartitions = len(self.pieces)

    def params(self):
        pred = None if self.predicate is None else self.predicate.__graphflow_tokenize__()
        hive = None if self.hive is None else self.hive.__graphflow_tokenize__()
        return (self.pieces, self.columns, pred, _mtimes(self.pieces), hive)

    def replace(self, columns="same", predicate="same") -> "ReadParquet":
        return ReadParquet(self.pieces, self.full_schema,
                           self.columns if columns == "same" else columns,
                           self.predicate if predicate == "same" else predicate, self.hive, self.piece_files)

    def with_columns(self, columns) -> "ReadParquet":
        return self.replace(columns=columns)

    def estimated_bytes(self) -> float:
        """Uncompressed bytes of the columns read, from the files' metadata (before any filter: an upper
        bound); the optimizer's broadcast choice reads it after projection pushdown."""
        total, wanted = 0, set(self._schema.names)
        for path, rg in self.pieces:
            md = file_metadata(path)
            for g in range(md.num_row_groups) if rg is None else [rg]:
                group = md.row_group(g)
                for c in range(group.num_columns):
                    chunk = group.column(c)
                    if chunk.path_in_schema.split(".")[0] in wanted:
                        total += chunk.total_uncompressed_size
        return total

    def with_predicate(self, predicate) -> "ReadParquet":
        both = predicate if self.predicate is None else Call("and_kleene", [self.predicate, predicate])
        return self.replace(predicate=both)

    def tasks(self):
        cols = list(self._schema.names)
        out = []
        for i, (path, rg) in enumerate(self.pieces):
            part = None if self.hive is None else (self.hive, self.piece_files[i])
            out.append(Task((self.name, i), read_piece, path, rg, cols, self.predicate, part))
        return out

    def describe(self):
        pred = "" if self.predicate is None else f" filter=({self.predicate!r})"
        return f"ReadParquet[{self.npartitions}] columns=[{', '.join(self._schema.names)}]{pred}"


def _mtimes(pieces):
    # Part of the name, so a file rewritten between two computations is not served from a stale key.
    return tuple(sorted({(p, os.stat(p).st_mtime_ns) for p, _ in pieces}))


def _ruled_out_by_partition(predicate, hive, file_index) -> bool:
    """Whether a conjunct that reads only partition columns is false (or null) for this file's values."""
    one = hive.constants(file_index, 1)
    for conj in conjuncts(predicate):
        if conj.columns() and conj.columns() <= set(hive.names):
            if not evaluate_on(conj, one).to_pylist()[0]:
                return True
    return False


def read_piece(path, row_group, columns, predicate, partition=None):
    """One partition: a row group (or a whole file), some columns, rows matching the predicate.

    ``ParquetFile`` reads are several times faster per call than a dataset
    fragment scan; the predicate is evaluated on the decoded row group (with
    the columns it needs, dropped afterwards) before any other task sees it.
    ``partition`` is (`HiveLayout`, this file's index in it) for hive-partitioned files.
    """
    wanted = list(columns)
    extra = [] if predicate is None else sorted(predicate.columns() - set(wanted))
    hive, file_index = partition if partition is not None else (None, None)
    from_dirs = set(hive.names) if hive is not None else set()
    in_file = [c for c in wanted + extra if c not in from_dirs]
    # Strings of few distinct values are decoded as dictionaries (TPC-H's flags and ship modes: ~10x
    # cheaper to decode); the filter works on the codes and the columns read out are turned back into
    # the file's type after it, on the rows kept (still ~2x cheaper than a plain decode of them all).
    f = open_parquet(path)
    types = {fl.name: fl.type for fl in f.schema_arrow}
    coded = [c for c in in_file if c in types and (pa.types.is_string(types[c]) or pa.types.is_large_string(types[c]))
             and _few_distinct(f.metadata, c, row_group)]
    if coded:
        f = open_parquet(path, read_dictionary=coded)
    if predicate is not None:
        groups = range(f.metadata.num_row_groups) if row_group is None else [row_group]
        if (hive is not None and _ruled_out_by_partition(predicate, hive, file_index)) or \
                all(excluded(f.metadata.row_group(g), predicate) for g in groups):
            return _empty(f, hive, wanted)
    if row_group is None:
        table = f.read(columns=in_file, use_threads=False)
    else:
        table = f.read_row_group(row_group, columns=in_file, use_threads=False)
    table = table.replace_schema_metadata(None)
    if hive is not None:
        consts = hive.constants(file_index, table.num_rows, names=set(wanted + extra))
        for name in consts.column_names:
            table = table.append_column(name, consts[name])
    if predicate is not None:
        mask, table = _mask(predicate, table, coded)
        table = filter_table(table, mask)
    table = table.select(wanted)
    for c in coded:
        i = table.schema.get_field_index(c)
        if i >= 0 and table.schema.field(i).type != types[c]:  # still coded, or decoded by _mask as string
            table = table.set_column(i, c, table.column(i).cast(types[c]))
    return table


# Stored bytes a row at most for a string column to be read as a dictionary: a column of few distinct
# values (ship modes: under 1 B a row) gains ~5x; a nearly unique one (TPC-H's comments: ~20 B a row)
# costs ~2x as much to read that way, each value hashed into a dictionary as big as the column.
_DICTIONARY_BYTES_PER_ROW = 4


def _few_distinct(metadata, column: str, row_group) -> bool:
    """Whether ``column``'s stored size says it has few distinct values (see `_DICTIONARY_BYTES_PER_ROW`)."""
    groups = range(metadata.num_row_groups) if row_group is None else [row_group]
    rows = stored = 0
    for g in groups:
        rg = metadata.row_group(g)
        for i in range(rg.num_columns):
            if rg.column(i).path_in_schema == column:
                rows, stored = rows + rg.num_rows, stored + rg.column(i).total_compressed_size
    return rows > 0 and stored <= _DICTIONARY_BYTES_PER_ROW * rows


def _mask(predicate, table, coded=()):
    """``(mask, table)``: the predicate on the decoded table; a kernel without dictionary support (a string
    function) gets the dictionary-coded columns decoded first, and the table returned then has the columns
    of ``coded`` (those read as dictionaries for speed) decoded, so they are not decoded twice."""
    try:
        return evaluate_on(predicate, table), table
    except (pa.ArrowNotImplementedError, pa.ArrowInvalid, pa.ArrowTypeError, TypeError):
        plain = table
        for i, field in enumerate(table.schema):
            if pa.types.is_dictionary(field.type):
                plain = plain.set_column(i, field.name, table.column(i).cast(field.type.value_type))
        mask = evaluate_on(predicate, plain)
        for i, field in enumerate(table.schema):
            if field.name in coded:
                table = table.set_column(i, field.name, plain.column(i))
        return mask, table


def _empty(f, hive, wanted):
    fields = {fl.name: fl for fl in f.schema_arrow}
    if hive is not None:
        fields.update({fl.name: fl for fl in hive.schema})
    return pa.schema([fields[c] for c in wanted]).empty_table()


def check_engine(engine, what: str = "read_parquet"):
    """Refuse every Parquet engine but pyarrow (ValueError naming what is supported)."""
    if engine not in (None, "auto", "pyarrow"):
        raise ValueError(f"Unsupported engine: {engine!r}. graphflow's {what} uses pyarrow: valid choices are "
                         "'pyarrow' or 'auto' (fastparquet is not supported)")


# Dask's read_parquet keywords that only tune Dask's own planning or its pandas conversion.
_INERT = {"dtype_backend", "ignore_metadata_file", "metadata_task_size", "aggregate_files", "blocksize",
          "arrow_to_pandas", "storage_options", "filesystem", "engine", "calculate_divisions", "categories",
          "parquet_file_extension", "split_row_groups"}


def read_parquet(path=None, columns=None, filters=None, index=None, split_row_groups="infer", engine=None,
                 parquet_file_extension=_EXTENSIONS, **kwargs):
    """A DataFrame over Parquet files: a file, a directory (hive-partitioned or not), a glob or a list.

    ``columns`` selects columns (a single name gives a Series, as in Dask); ``filters`` is a predicate in
    pyarrow's DNF form (``[("x", ">", 0)]``; operators ``=``, ``==``, ``!=``, ``<``, ``<=``, ``>``,
    ``>=``, ``in``, ``not in``) applied while reading; ``index`` the column(s) to use as the index
    (default: the index recorded by pandas in the file; ``False``: none).  One partition per row group
    (``split_row_groups=False``: per file).  ``engine`` must be pyarrow's.

        >>> import os, tempfile, pyarrow as pa, pyarrow.parquet as pq
        >>> d = tempfile.mkdtemp()
        >>> pq.write_table(pa.table({"a": [1, 2, 3], "b": ["x", "y", "z"]}), os.path.join(d, "p.parquet"),
        ...                row_group_size=2)
        >>> df = read_parquet(d, columns=["a"], filters=[("a", ">=", 2)])
        >>> df.npartitions, df.compute(scheduler="sync").to_dict("list")
        (2, {'a': [2, 3]})
    """
    reject_keywords(kwargs, _INERT, _REFUSED, "read_parquet")
    check_engine(engine)
    check_local(kwargs.get("storage_options"), kwargs.get("filesystem"), "read_parquet")
    _check_options(kwargs, split_row_groups)
    if path is None:
        raise TypeError("read_parquet() missing required argument: 'path'")
    ext = (parquet_file_extension,) if isinstance(parquet_file_extension, str) else tuple(parquet_file_extension or ())
    found = expand_with_roots(path, ext or ("",))
    if not found:
        raise FileNotFoundError(f"no Parquet files found at {path!r} (looked for names ending in {ext})")
    files = [f for f, _ in found]
    file_schema = pq.read_schema(files[0])
    hive = HiveLayout.discover(found)
    schema = file_schema.remove_metadata()
    if hive is not None:
        schema = pa.schema(list(schema) + [f for f in hive.schema if f.name not in schema.names])
    pandas_index, pandas_names = _pandas_index(file_schema)
    index_cols, index_names = _index_request(index, pandas_index, pandas_names, schema)
    as_series = isinstance(columns, str)
    if columns is not None:
        columns = [columns] if as_series else list(columns)
        check_columns(columns, schema)
        columns = columns + [c for c in index_cols if c not in columns]
    pieces, piece_files = [], []
    for i, f in enumerate(files):
        n = file_metadata(f).num_row_groups if split_row_groups is not False else 0
        rgs = [(f, rg) for rg in range(n)] if n > 1 else [(f, None)]
        pieces += rgs
        piece_files += [i] * len(rgs)
    predicate = dnf_to_expr(filters, schema) if filters else None
    df = DataFrame(ReadParquet(pieces, schema, columns, predicate, hive, piece_files))
    if index_cols:
        df = set_index_columns(df, index_cols, index_names)
    return df[columns[0]] if as_series else df


_REFUSED = {
    "chunksize": "the partitions are the row groups (split_row_groups=False: one per file)",
    "gather_statistics": "removed from Dask: use calculate_divisions=",
    "read_from_paths": "not needed: pieces are read from their paths",
}


def _check_options(kw, split_row_groups):
    if split_row_groups not in (True, False, "infer", "adaptive", 1):
        raise ValueError(f"split_row_groups={split_row_groups!r}: use True (a partition per row group, the "
                         "default), False (per file), 'infer' or 'adaptive'")
    if kw.get("calculate_divisions"):
        raise ValueError("calculate_divisions=True is not supported yet: read with index=..., then "
                         "set_index(..., sorted=True) to compute the divisions")
    if kw.get("categories"):
        raise ValueError("categories= is not supported: read the columns, then .astype('category')")
    for k in ("metadata_task_size", "aggregate_files", "arrow_to_pandas"):
        if kw.get(k) not in (None, False, {}):
            raise ValueError(f"{k}={kw[k]!r} is not supported (it tunes Dask's planner); leave it out")
    if kw.get("blocksize") not in (None, "default"):
        raise ValueError("blocksize= is not supported by read_parquet: partitions follow row groups; use "
                         "split_row_groups=False for one partition per file, or repartition afterwards")


def _pandas_index(file_schema):
    """The index columns a pandas-written file declares (``index_columns`` that are columns, not ranges)."""
    raw = (file_schema.metadata or {}).get(b"pandas")
    if not raw:
        return [], []
    meta = json.loads(raw)
    cols = [c for c in meta.get("index_columns", []) if isinstance(c, str)]
    names = {c.get("field_name"): c.get("name") for c in meta.get("columns", [])}
    return cols, [names.get(c, c) for c in cols]


def _index_request(index, pandas_index, pandas_names, schema):
    if index is False:
        return [], []
    if index is None:
        present = [c for c in pandas_index if c in schema.names]
        return present, [n for c, n in zip(pandas_index, pandas_names) if c in present]
    cols = [index] if isinstance(index, str) else list(index)
    check_columns(cols, schema, what="index column")
    names = {c: n for c, n in zip(pandas_index, pandas_names)}
    return cols, [names.get(c, c) for c in cols]


_OPS = {"=": "equal", "==": "equal", "!=": "not_equal", "<": "less", "<=": "less_equal",
        ">": "greater", ">=": "greater_equal"}


def dnf_to_expr(filters, schema):
    """pyarrow's ``filters=`` (a list of tuples, or a list of such lists: OR of ANDs) as a `ColExpr`."""
    import pyarrow.compute as pc

    if not isinstance(filters, (list, tuple)):
        raise TypeError(f"filters must be a list of (column, op, value) tuples or a list of such lists "
                        f"(OR of ANDs), not {type(filters).__name__}")
    groups = filters if all(isinstance(g, list) for g in filters) else [filters]
    ors = []
    for group in groups:
        ands = []
        for term in group:
            if not isinstance(term, (tuple, list)) or len(term) != 3:
                raise ValueError(f"each filter is a (column, op, value) tuple, not {term!r}")
            name, op, value = term
            check_columns([name], schema)
            if op in ("in", "not in"):
                if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
                    raise TypeError(f'Value for "{op}" filter on {name!r} must be a list, set or tuple, not '
                                    f"{value!r}")
                values = pa.array(list(value))
                e = Call("is_in", [Col(name)], pc.SetLookupOptions(values))
                ands.append(Call("invert", [e]) if op == "not in" else e)
            elif op in _OPS:
                ands.append(Call(_OPS[op], [Col(name), Lit(value)]))
            else:
                raise ValueError(f'"{op}" is not a valid operator in predicates.')
            _check_types(ands[-1], term, schema)
        if not ands:
            continue
        e = ands[0]
        for a in ands[1:]:
            e = Call("and_kleene", [e, a])
        ors.append(e)
    if not ors:
        return None
    out = ors[0]
    for o in ors[1:]:
        out = Call("or_kleene", [out, o])
    return out


def _check_types(expr, term, schema):
    """Evaluate one filter on an empty table now, so a value of the wrong type fails here (with pyarrow's
    error, as pandas gives it) rather than in every read task."""
    try:
        evaluate_on(expr, schema.empty_table())
    except (pa.ArrowNotImplementedError, pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        if hasattr(exc, "add_note"):  # Python >= 3.11
            exc.add_note(f"in the filter {term!r} on column {term[0]!r} of type {schema.field(term[0]).type}")
        raise
