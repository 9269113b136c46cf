"""graphflow.array.linalg: linear algebra over blocks, as ``dask.array.linalg``.

Modules (a DAG, each importing only `core` and the ones above it):

    drawn        thin products with a random operand draw its blocks band by band (never stored)
    products     tensordot, matmul / @, dot, outer (block products summed by a tree)
    cholqr       CholeskyQR2 of one tall block, where its error bound holds (TSQR's fast local QR)
    tsqr         tsqr, qr, svd: tall-and-skinny QR, and short-and-fat by transposing
    randomized   svd_compressed: randomized SVD with power iterations
    triangular   solve_triangular, cholesky, lu: blocked, numpy only (no scipy)
    solve        solve, inv, lstsq (built on lu / qr and solve_triangular)
    norms        norm, numpy's vector and matrix orders
    numpy_api    np.linalg.qr(x) etc. on an Array: the table npfuncs dispatches through

    >>> import numpy as np, graphflow.array as ga
    >>> x = ga.random.random((1000, 5), chunks=(250, 5), seed=0)
    >>> u, s, vt = ga.linalg.svd(x)
    >>> bool(np.allclose(s.compute(), np.linalg.svd(x.compute(), compute_uv=False)))
    True
"""

from .products import SPLIT_EVERY, dot, matmul, outer, tensordot
from .tsqr import qr, sfqr, svd, tsqr
from .randomized import compression_level, compression_matrix, svd_compressed
from .triangular import cholesky, lu, solve_triangular
from .solve import inv, lstsq, solve
from .norms import norm
from .numpy_api import NUMPY_FUNCTIONS

__all__ = ["tensordot", "matmul", "dot", "outer", "SPLIT_EVERY", "tsqr", "sfqr", "qr", "svd", "svd_compressed",
           "compression_level", "compression_matrix", "solve_triangular", "cholesky", "lu", "solve", "inv",
           "lstsq", "norm", "NUMPY_FUNCTIONS"]
