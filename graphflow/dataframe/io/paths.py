"""Paths in and out: what a user passes to a reader, and the file names a writer makes.

Reading: a file, a directory (walked for files with one of the format's
suffixes), a glob, or a list of those; the result is in *natural* order
(``part.2`` before ``part.10``), so files written one per partition are read
back in partition order.

Writing, as Dask does: a path with one ``*`` is a pattern, the ``*``
replaced by ``name_function(i)`` for partition ``i``; a path without one is a
directory that gets ``{default pattern}`` inside it.  The default name
function pads the numbers so that names sort like the partitions.

    >>> natural_key("part.10.csv") > natural_key("part.2.csv")
    True
    >>> output_paths("out/*.csv", 3, None)
    ['out/0.csv', 'out/1.csv', 'out/2.csv']
    >>> [os.path.basename(p) for p in output_paths("out", 12, None, default="*.part")][:2]
    ['00.part', '01.part']
"""

from __future__ import annotations

import glob
import os
import re

__all__ = ["expand_paths", "expand_with_roots", "natural_key", "output_paths", "check_local", "infer_compression",
           "COMPRESSIONS", "open_input", "open_output", "read_lines", "byte_ranges"]

# Suffix -> codec name, for the codecs these readers can decompress (pyarrow's, and xz through lzma).
COMPRESSIONS = {".gz": "gzip", ".bz2": "bz2", ".zst": "zstd", ".lz4": "lz4", ".br": "brotli", ".xz": "xz"}


def natural_key(path: str):
    """Sort key comparing the runs of digits in ``path`` as numbers."""
    return [(0, int(tok), "") if tok.isdigit() else (1, 0, tok) for tok in re.split(r"(\d+)", path)]


def expand_paths(path, suffix) -> list:
    """File paths, naturally sorted: directories are walked for files ending in ``suffix`` (a string or a
    tuple); globs are expanded; hidden and ``_``-prefixed files (``_metadata``, ``_SUCCESS``) are skipped
    in directories."""
    return [f for f, _ in expand_with_roots(path, suffix)]


def expand_with_roots(path, suffix) -> list:
    """`expand_paths` as ``(file, root)`` pairs: ``root`` is the directory the user named (or a glob's
    directory part), so ``file``'s path below it holds any hive ``key=value`` directories; a file named
    directly is its own root."""
    items = [path] if isinstance(path, (str, os.PathLike)) else list(path)
    suffixes = (suffix,) if isinstance(suffix, str) else tuple(suffix)
    out: list = []
    for p in items:
        p = os.fspath(p)
        if os.path.isdir(p):
            found = []
            for root, dirs, files in os.walk(p):
                dirs[:] = [d for d in dirs if not d.startswith((".", "_"))]
                found += [os.path.join(root, f) for f in files
                          if f.endswith(suffixes) and not f.startswith((".", "_"))]
            out += [(f, p) for f in sorted(found, key=natural_key)]
        elif any(ch in p for ch in "*?["):
            base = p[:min(p.index(ch) for ch in "*?[" if ch in p)]
            base = base if base.endswith(os.sep) else os.path.dirname(base)
            out += [(f, base) for f in sorted(glob.glob(p, recursive=True), key=natural_key)]
        elif os.path.exists(p):
            out.append((p, p))
        else:
            raise FileNotFoundError(f"no such file or directory: {p!r}")
    return out


def _padded(n: int):
    width = len(str(max(n - 1, 0)))
    return lambda i: str(i).zfill(width)


def output_paths(path, n: int, name_function, default: str = "*") -> list:
    """The ``n`` file names for a writer: ``path`` with its ``*`` replaced by ``name_function(i)``, or
    ``path/default`` likewise when ``path`` has no ``*`` (a directory, made here)."""
    path = os.fspath(path)
    if path.count("*") > 1:
        raise ValueError(f"the output path {path!r} has more than one '*'; use one, where the partition number "
                         "goes")
    if "*" not in path:
        os.makedirs(path, exist_ok=True)
        path = os.path.join(path, default)
    else:
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    name = name_function or _padded(n)
    names = [path.replace("*", str(name(i))) for i in range(n)]
    if len(set(names)) != n:
        raise ValueError(f"name_function gives the same name to several partitions ({names[:4]}...); it must "
                         "give each partition number its own name")
    return names


def check_local(storage_options=None, filesystem=None, what: str = "this reader"):
    """Refuse remote-filesystem settings: these readers and writers use local paths only."""
    if storage_options:
        raise ValueError(f"{what} reads and writes local files only; storage_options={storage_options!r} "
                         "cannot be used (mount the storage, or copy the files locally)")
    if filesystem not in (None, "fsspec", "arrow"):
        raise ValueError(f"{what} reads and writes local files only; filesystem={filesystem!r} cannot be used")


def infer_compression(path: str, compression):
    """The codec for ``path``: ``compression`` itself, or (for ``"infer"``) the one its suffix names, or None.

    Names as pandas spells them (``"gzip"``, ``"bz2"``, ``"zstd"``, ``"xz"``, plus pyarrow's ``"lz4"`` and
    ``"brotli"``); ``"zip"`` and ``"tar"`` (archives, not streams) are refused by name."""
    if isinstance(compression, dict):
        compression = compression.get("method")
    if compression == "infer":
        return next((c for s, c in COMPRESSIONS.items() if os.fspath(path).endswith(s)), None)
    if compression is None or compression in COMPRESSIONS.values():
        return compression
    supported = ", ".join(repr(c) for c in ["infer", None, *COMPRESSIONS.values()])
    raise ValueError(f"compression={compression!r} is not supported for {path!r}; use one of {supported}")


def open_input(path, compression="infer"):
    """A binary file object reading ``path``, decompressed per `infer_compression`."""
    codec = infer_compression(path, compression)
    if codec is None:
        return open(path, "rb")
    if codec == "xz":
        import lzma

        return lzma.open(path, "rb")
    import pyarrow as pa

    return pa.input_stream(os.fspath(path), compression=codec)


def open_output(path, compression=None, append: bool = False):
    """A binary file object writing (or appending to) ``path``, compressed with ``compression``."""
    codec = infer_compression(path, compression)
    mode = "ab" if append else "wb"
    if codec is None:
        return open(path, mode)
    if codec == "xz":
        import lzma

        return lzma.open(path, mode)
    import pyarrow as pa

    return pa.CompressedOutputStream(open(path, mode), codec)


def read_lines(path, start: int, length: int, compression="infer") -> bytes:
    """The complete lines of the byte range ``[start, start + length)`` of ``path`` (``length`` -1: the whole
    file, decompressed): a line belongs to the range its first byte is in, so ranges that tile a file
    read every line once."""
    if length < 0:
        with open_input(path, compression) as f:
            return f.read()
    with open(path, "rb") as f:
        if start > 0:
            f.seek(start - 1)
            f.readline()  # finish the line that straddles our start: the previous range reads it
        data = f.read(max(start + length - f.tell(), 0))
        if data and not data.endswith(b"\n"):
            data += f.readline()
    return data


def byte_ranges(files, blocksize, whole=lambda path: False) -> list:
    """``(path, start, length)`` ranges of at most ``blocksize`` bytes over ``files`` (``length`` -1: the whole
    file, for ``blocksize=None``, a small file, or one where ``whole(path)``)."""
    out = []
    for p in files:
        size = os.path.getsize(p)
        if blocksize is None or size <= blocksize or whole(p):
            out.append((p, 0, -1))
        else:
            out += [(p, s, min(blocksize, size - s)) for s in range(0, size, blocksize)]
    return out
