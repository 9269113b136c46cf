"""An Array's chunk grid drawn as SVG, from its ``chunks`` alone (nothing is computed).

Each block is one ``<rect>`` whose width and height are proportional to its
lengths along the last two axes (1-d arrays are one row); the longer side is
``size`` pixels and no side is drawn thinner than a few pixels, so very long,
thin arrays stay visible.  Arrays with more than two dimensions draw the grid
of their last two axes once per block of the leading axes, side by side.

    >>> import graphflow.array as ga
    >>> svg = ga.ones((4, 6), chunks=(2, 3)).to_svg(size=120)
    >>> svg.count("<rect")
    4

The model is Dask's ``Array.to_svg``; the drawing here is graphflow's own.
"""

from __future__ import annotations

import html
import itertools
import math

__all__ = ["chunks_svg"]

_MIN_SIDE = 8  # pixels: a 1 x 10**6 array must still show as a strip
_GAP = 10  # pixels between the panels of a >2-d array


def _edges(lengths, total_px: float) -> list:
    """Pixel offsets of block boundaries: lengths scaled to ``total_px`` (an all-empty axis gets one edge pair)."""
    total = sum(lengths)
    scale = total_px / total if total else 0.0
    edges = [0.0]
    for n in lengths:
        edges.append(edges[-1] + n * scale)
    if not total:  # zero-length axis: blocks of width 0 would be invisible, draw them evenly
        edges = [total_px * i / max(len(lengths), 1) for i in range(len(lengths) + 1)]
    return edges


def _panel(rows, cols, width: float, height: float, x0: float, title: str) -> list:
    ys, xs = _edges(rows, height), _edges(cols, width)
    out = [f'<g transform="translate({x0:.2f},0)"><title>{html.escape(title)}</title>']
    for i, j in itertools.product(range(len(rows)), range(len(cols))):
        out.append(f'<rect x="{xs[j]:.2f}" y="{ys[i]:.2f}" width="{xs[j + 1] - xs[j]:.2f}" '
                   f'height="{ys[i + 1] - ys[i]:.2f}" data-block="{i},{j}" '
                   'style="fill:#ECB172A0;stroke:#404040;stroke-width:1"/>')
    out.append("</g>")
    return out


def chunks_svg(chunks, shape, size: int = 500) -> str:
    """SVG text drawing the block grid of an array with these ``chunks`` and ``shape``; one rect per block.

    Raises NotImplementedError for 0-d arrays, which have no grid (as Dask does).
    """
    if len(chunks) == 0:
        raise NotImplementedError("to_svg: a 0-d array has no chunk grid to draw")
    if size <= 0:
        raise ValueError(f"to_svg: size must be a positive number of pixels, not {size!r}")
    rows, cols = ((1,), chunks[0]) if len(chunks) == 1 else (chunks[-2], chunks[-1])
    nrows, ncols = (1, shape[0]) if len(shape) == 1 else (shape[-2], shape[-1])
    longest = max(nrows, ncols, 1)
    width = max(_MIN_SIDE, size * ncols / longest)
    height = max(_MIN_SIDE, size * nrows / longest)
    lead = [range(len(c)) for c in chunks[:-2]]
    panels = list(itertools.product(*lead))  # [()] for 1-d and 2-d
    parts = []
    for k, idx in enumerate(panels):
        parts += _panel(rows, cols, width, height, k * (width + _GAP), f"block {idx}" if idx else "blocks")
    total_w = len(panels) * width + (len(panels) - 1) * _GAP
    label = f"{' x '.join(str(s) for s in shape)}, {math.prod(len(c) for c in chunks)} blocks"
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{total_w:.0f}" height="{height + 20:.0f}" '
            f'viewBox="0 0 {total_w:.2f} {height + 20:.2f}">')
    text = f'<text x="0" y="{height + 15:.2f}" font-size="12">{html.escape(label)}</text>'
    return "\n".join([head, *parts, text, "</svg>"])
