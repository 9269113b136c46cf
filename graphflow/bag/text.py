"""Text files: `read_text` (lines, optionally compressed, optionally in byte blocks) and `to_textfiles`.

One partition per file, or per ``blocksize`` bytes of an uncompressed file.
Blocks never cut a line: a line belongs to the block its first byte is in, so
a block's task skips the tail of the line that began in the block before and
reads past its own end to finish its last line.  For a 10-byte file
``"ab\\ncdef\\ngh"`` and ``blocksize=4``::

    bytes   a b \\n | c d e f | \\n g h
    block   [0, 4)   [4, 8)    [8, 10)
    lines   "ab\\n"  "cdef\\n"  "gh"

Lines keep their ``"\\n"`` (as in Dask); ``"\\r\\n"`` and ``"\\r"`` read as
``"\\n"`` unless ``linedelimiter=`` names the one delimiter to split on.
Compression (``"gzip"``, ``"bz2"``, ``"xz"`` or ``"infer"`` from the
extension) uses the standard library; a compressed file cannot be read in
blocks (its bytes cannot be entered in the middle), so it is one partition.
Blocks need an encoding in which the delimiter's bytes never occur inside
another character (UTF-8, ASCII, Latin-1 are fine; UTF-16 is not).

    >>> import os, tempfile, graphflow.bag as db
    >>> d = tempfile.mkdtemp()
    >>> paths = db.from_sequence(["a", "b", "c"], npartitions=2).to_textfiles(
    ...     os.path.join(d, "*.txt.gz"), scheduler="sync")
    >>> [os.path.basename(p) for p in paths]
    ['0.txt.gz', '1.txt.gz']
    >>> db.read_text(os.path.join(d, "*.txt.gz")).compute(scheduler="sync")
    ['a\\n', 'b', 'c']
"""

from __future__ import annotations

import bz2
import codecs
import glob
import gzip
import io
import lzma
import os

from ..delayed import Delayed
from ..spec import Ref, Task
from ..units import parse_bytes
from .core import Bag, new_name

__all__ = ["read_text", "to_textfiles", "open_file", "infer_compression"]

_OPENERS = {"gzip": gzip.open, "bz2": bz2.open, "xz": lzma.open}
_EXTENSIONS = {".gz": "gzip", ".gzip": "gzip", ".bz2": "bz2", ".xz": "xz", ".lzma": "xz"}


def infer_compression(path: str, compression):
    """The compression of ``path``: ``compression`` itself, or from the extension for ``"infer"``."""
    if compression == "infer":
        return _EXTENSIONS.get(os.path.splitext(str(path))[1].lower())
    if compression is not None and compression not in _OPENERS:
        raise ValueError(f"unknown compression {compression!r}; choose one of {sorted(_OPENERS)}, 'infer' or None")
    return compression


def open_file(path: str, mode: str, compression):
    """A binary file object for ``path``, through the compression's opener."""
    if compression is None:
        return open(path, mode)
    return _OPENERS[compression](path, mode)


def _expand_paths(urlpath) -> list:
    if isinstance(urlpath, (str, os.PathLike)):
        urlpath = os.fspath(urlpath)
        paths = sorted(glob.glob(urlpath)) if glob.has_magic(urlpath) else [urlpath]
    else:
        paths = [os.fspath(p) for p in urlpath]
    if not paths:
        raise FileNotFoundError(f"read_text: no file matches {urlpath!r}")
    for p in paths:
        if "://" in p and not p.startswith("file://"):
            raise ValueError(f"read_text reads local files; {p!r} needs a filesystem graphflow does not have")
    return [p[len("file://"):] if p.startswith("file://") else p for p in paths]


# Characters str.splitlines also breaks at; "\r" is handled before.  ASCII text can hold only the first five.
_OTHER_BREAKS_ASCII = "\v\f\x1c\x1d\x1e"
_OTHER_BREAKS = _OTHER_BREAKS_ASCII + "\x85\u2028\u2029"


def _split_lines(text: str, delimiter) -> list:
    if delimiter is None:
        if "\r" in text:
            return list(io.StringIO(text, newline=None))  # universal newlines, ends kept as "\n"
        breaks = _OTHER_BREAKS_ASCII if text.isascii() else _OTHER_BREAKS
        if not any(c in text for c in breaks):
            # Only "\n" breaks lines here, so splitlines gives the same lines, ends kept, without
            # building each line twice (a third faster than split + concatenation below).
            return text.splitlines(True)
        delimiter = "\n"  # the same lines; str.split is a third faster than StringIO
    parts = text.split(delimiter)
    last = parts.pop()
    out = [p + delimiter for p in parts]
    if last:
        out.append(last)
    return out


def _read_range(f, start: int, end, delim: bytes) -> bytes:
    """The bytes of the lines that begin in ``[start, end)`` (``end`` None: to the end of the file)."""
    if start > 0:
        f.seek(start - 1)
        if f.read(1) != delim:
            _skip_past(f, delim)
    pos = f.tell()
    if end is None:
        return f.read()
    if pos >= end:
        return b""
    data = f.read(end - pos)
    if data and not data.endswith(delim):
        data += _read_until(f, delim)
    return data


def _read_until(f, delim: bytes) -> bytes:
    if delim == b"\n":
        return f.readline()
    chunks = []
    while True:
        c = f.read(1)
        chunks.append(c)
        if not c or b"".join(chunks[-len(delim):]) == delim:
            return b"".join(chunks)


def _skip_past(f, delim: bytes) -> None:
    _read_until(f, delim)


def _read_lines(path, start, end, compression, encoding, errors, delimiter, include_path):
    delim = (delimiter or "\n").encode(encoding)
    with open_file(path, "rb", compression) as f:
        data = _read_range(f, start, end, delim) if start or end is not None else f.read()
    lines = _split_lines(data.decode(encoding, errors), delimiter)
    if include_path:
        return [(line, path) for line in lines]
    return lines


# Encodings in which the byte b"\n" is always the character "\n": text cut right after one decodes piece by
# piece to the same characters as in one go (UTF-8 is self-synchronizing; the others are one byte a character).
_CUTTABLE = {"utf-8", "ascii", "iso8859-1"}
_PIECE = 1 << 18  # bytes read, decoded and split at a time while streaming: the lines stay in the CPU's cache


def _iter_lines(path, start, end, compression, encoding, errors, delimiter, include_path):
    """`_read_lines`'s streaming variant (the same lines, lazily), for a fused step that reads them once.

    A whole file is read, decoded and split ``_PIECE`` bytes at a time, each piece cut after its last
    newline: a newline always ends a line (also in universal newlines mode: after ``"\\r\\n"`` or alone), so
    the pieces split into the same lines as the whole text, and 32 MB of text and its lines are never in
    memory at once (the lines are parsed while still in cache: 17% less CPU for read_text + json.loads).
    Other cases (byte ranges, a delimiter, other encodings) return `_read_lines`'s list.
    """
    if delimiter is not None or start or end is not None or codecs.lookup(encoding).name not in _CUTTABLE:
        return iter(_read_lines(path, start, end, compression, encoding, errors, delimiter, include_path))
    lines = stream_pieces(path, compression, encoding, errors)
    return ((line, path) for line in lines) if include_path else lines


def stream_pieces(path, compression, encoding, errors, size: int = _PIECE):
    """The lines of the whole file ``path``, read ``size`` bytes at a time (see `_iter_lines`)."""
    with open_file(path, "rb", compression) as f:
        rest = []  # the bytes after the last newline read so far (a list: a file may have no "\n" at all)
        while True:
            data = f.read(size)
            cut = data.rfind(b"\n") + 1
            if not cut:
                if not data:
                    break
                rest.append(data)
                continue
            piece = b"".join(rest) + data[:cut] if rest else data[:cut]
            rest = [data[cut:]]
            try:
                text = piece.decode(encoding, errors)
            except UnicodeDecodeError:
                # Raise it as reading the file whole does, with its position in the file, not in the piece.
                _read_lines(path, 0, None, compression, encoding, errors, None, False)
                raise  # pragma: no cover - the whole file holds the same bad bytes
            yield from _split_lines(text, None)
    tail = b"".join(rest)
    if tail:
        yield from _split_lines(tail.decode(encoding, errors), None)


_read_lines.__graphflow_stream__ = _iter_lines  # see graphflow.optimize.stream; it reads no partition


def _join_lists(*parts):
    out = []
    for p in parts:
        out.extend(p)
    return out


def read_text(urlpath, blocksize=None, compression="infer", encoding="utf-8", errors="strict",
              linedelimiter=None, collection=True, storage_options=None, files_per_partition=None,
              include_path=False):
    """A Bag of the lines of text files: ``urlpath`` is a path, a glob (``"logs/*.json.gz"``) or a list.

    One partition per file, per ``blocksize`` (bytes, or ``"64MB"``) of an uncompressed file, or per
    ``files_per_partition`` files; ``include_path=True`` gives ``(line, path)`` pairs; ``collection=False``
    gives one Delayed per partition instead.
    """
    if storage_options:
        raise ValueError("read_text reads local files: storage_options are for remote filesystems")
    if blocksize is not None and files_per_partition is not None:
        raise ValueError("give blocksize= or files_per_partition=, not both")
    paths = _expand_paths(urlpath)
    if isinstance(blocksize, str):
        blocksize = parse_bytes(blocksize)
    pieces = []  # (path, start, end, compression)
    for path in paths:
        comp = infer_compression(path, compression)
        if blocksize is None:
            pieces.append((path, 0, None, comp))
            continue
        if comp is not None:
            raise ValueError(f"read_text: {path!r} is {comp}-compressed and cannot be read in blocks "
                             f"(its bytes cannot be entered in the middle); leave blocksize=None")
        if not isinstance(blocksize, int) or blocksize < 1:
            raise ValueError(f"blocksize must be a positive number of bytes, not {blocksize!r}")
        size = os.path.getsize(path)
        for start in range(0, max(size, 1), blocksize):
            end = start + blocksize
            pieces.append((path, start, None if end >= size else end, comp))
    name = new_name("read_text", [(p, s, e, c, os.path.getmtime(p)) for p, s, e, c in pieces], encoding,
                    errors, linedelimiter, include_path, files_per_partition)
    extra = (encoding, errors, linedelimiter, include_path)
    nodes = {}
    if files_per_partition is None:
        for i, (p, s, e, c) in enumerate(pieces):
            nodes[(name, i)] = Task((name, i), _read_lines, p, s, e, c, *extra)
    else:
        for i in range(0, len(pieces), files_per_partition):
            reads = []
            for j, (p, s, e, c) in enumerate(pieces[i:i + files_per_partition]):
                k = (f"read-{name}", i + j)
                nodes[k] = Task(k, _read_lines, p, s, e, c, *extra)
                reads.append(Ref(k))
            key = (name, i // files_per_partition)
            nodes[key] = Task(key, _join_lists, *reads)
    bag = Bag(name, sum(1 for k in nodes if k[0] == name), nodes)
    return bag if collection else bag.to_delayed()


# ------------------------------------------------------------------ writing


def _output_paths(path, n: int, name_function, compression) -> list:
    if isinstance(path, (list, tuple)):
        if len(path) != n:
            raise ValueError(f"to_textfiles: {len(path)} paths for {n} partitions")
        return [os.fspath(p) for p in path]
    path = os.fspath(path)
    name_function = name_function or str
    if "*" in path:
        if path.count("*") > 1:
            raise ValueError(f"to_textfiles: {path!r} has more than one '*'")
        return [path.replace("*", name_function(i)) for i in range(n)]
    os.makedirs(path, exist_ok=True)
    # A directory has no extension to infer from: "infer" writes plain files there, as Dask does.
    comp = None if compression == "infer" else infer_compression(path, compression)
    ext = {None: "", "gzip": ".gz", "bz2": ".bz2", "xz": ".xz"}[comp]
    return [os.path.join(path, f"{name_function(i)}.part{ext}") for i in range(n)]


def _write_part(part, path, compression, encoding, last_endline):
    directory = os.path.dirname(path)
    if directory:
        os.makedirs(directory, exist_ok=True)
    with open_file(path, "wb", compression) as raw:
        with io.TextIOWrapper(raw, encoding=encoding, newline="") as f:
            for i, line in enumerate(part):
                if not isinstance(line, str):
                    raise TypeError(f"to_textfiles writes strings; element {i} of the partition for {path!r} is a "
                                    f"{type(line).__name__} (map(str) or map(json.dumps) first)")
                if i:
                    f.write("\n")
                f.write(line)
            if last_endline:
                f.write("\n")
    return path


def to_textfiles(bag: Bag, path, name_function=None, compression="infer", encoding="utf-8", compute=True,
                 last_endline=False, storage_options=None, **compute_kwargs):
    """Write partition ``i`` to the ``i``-th path (``"out/*.txt.gz"`` with ``*`` replaced by
    ``name_function(i)``, a directory, or a list), elements joined by newlines; the paths (or, with
    ``compute=False``, one Delayed per file)."""
    if storage_options:
        raise ValueError("to_textfiles writes local files: storage_options are for remote filesystems")
    paths = _output_paths(path, bag.npartitions, name_function, compression)
    name = new_name("to_textfiles", bag.name, paths, compression, encoding, last_endline)
    delayed = []
    for i, (key, p) in enumerate(zip(bag.keys(), paths)):
        node = Task((name, i), _write_part, Ref(key), p, infer_compression(p, compression), encoding,
                    last_endline)
        delayed.append(Delayed((name, i), (node,), (bag,)))
    if not compute:
        return delayed
    from .. import base, config

    # The files are the bag's partitions: they compute where the bag would (its default, not Delayed's).
    compute_kwargs.setdefault("scheduler", config.get("scheduler") or Bag.__graphflow_scheduler__)
    return list(base.compute(*delayed, **compute_kwargs))
