import functools
import json
import os
import subprocess
import sys
import threading

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, strategies as st

import graphflow as gf
from graphflow.errors import TokenizeError
from graphflow.spec import normalize_token, tokenize

from . import tokenize_cases

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def tokens_in_subprocess(seed: str) -> dict:
    env = dict(os.environ, PYTHONHASHSEED=seed)
    out = subprocess.run(
        [sys.executable, "-m", "tests.spec.tokenize_cases"],
        cwd=ROOT, env=env, capture_output=True, text=True, check=True,
    )
    return json.loads(out.stdout)


def test_tokens_are_stable_across_processes_and_hash_seeds():
    here = {name: tokenize(obj) for name, obj in tokenize_cases.cases().items()}
    first = tokens_in_subprocess("1")
    second = tokens_in_subprocess("4242")
    assert first == second
    # In this process the module is imported as tests.spec.tokenize_cases, in the
    # subprocess as __main__: by-name objects from that module differ, all others match.
    by_name = {"function", "partial", "class", "hooked", "plain-object", "dataclass", "enum", "lambda"}
    for name, token in here.items():
        if name not in by_name:
            assert token == first[name], name


def test_tokens_are_stable_for_module_level_objects_across_processes():
    code = (
        "import json, sys; from graphflow.spec import tokenize; "
        "from tests.spec import tokenize_cases as c; "
        "json.dump({k: tokenize(v) for k, v in c.cases().items()}, sys.stdout)"
    )
    runs = [
        json.loads(subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                                  check=True, env=dict(os.environ, PYTHONHASHSEED=s)).stdout)
        for s in ("7", "8")
    ]
    here = {name: tokenize(obj) for name, obj in tokenize_cases.cases().items()}
    assert runs[0] == runs[1] == here


def test_distinct_values_get_distinct_tokens():
    values = [1, 1.0, "1", b"1", (1,), [1], {1}, frozenset({1}), {1: 1}, None, True, (1, 2), (2, 1),
              [1, [2]], [[1], 2], ("list", (1,)), "x" * 300, "x" * 301]
    tokens = [tokenize(v) for v in values]
    assert len(set(tokens)) == len(values)


def test_dicts_and_sets_ignore_order():
    assert tokenize({"a": 1, "b": 2}) == tokenize({"b": 2, "a": 1})
    assert tokenize({3, 1, 2}) == tokenize({1, 2, 3})


def test_kwargs_are_part_of_the_token():
    assert tokenize(1, a=2) != tokenize(1, a=3) != tokenize(1)


def test_numpy_arrays_by_content_dtype_and_shape():
    a = np.arange(12)
    assert tokenize(a) == tokenize(a.copy())
    assert tokenize(a) != tokenize(a.astype("f8"))
    assert tokenize(a) != tokenize(a.reshape(3, 4))
    b = a.copy()
    b[5] = -1
    assert tokenize(a) != tokenize(b)
    assert tokenize(a[::2]) == tokenize(np.ascontiguousarray(a[::2]))
    assert tokenize(np.array([1, "a"], dtype=object)) == tokenize(np.array([1, "a"], dtype=object))


def test_pyarrow_by_content():
    t1 = pa.table({"a": [1, 2, 3]})
    assert tokenize(t1) == tokenize(pa.table({"a": [1, 2, 3]}))
    assert tokenize(t1) != tokenize(pa.table({"a": [1, 2, 4]}))
    assert tokenize(t1) != tokenize(pa.table({"b": [1, 2, 3]}))
    assert tokenize(t1.slice(1)) != tokenize(t1.slice(2))


def test_functions():
    def f(x):
        return x + 1

    def g(x):
        return x + 2

    assert tokenize(f) == tokenize(f)
    assert tokenize(f) != tokenize(g)
    assert tokenize(functools.partial(f, 1)) != tokenize(functools.partial(f, 2))
    k = 1
    h1 = lambda x: x + k  # noqa: E731
    k = 2
    h2 = lambda x: x + k  # noqa: E731
    # Closures capture the variable cell; both see k == 2 now, so they compute the same thing.
    assert tokenize(h1) == tokenize(h2)


def test_lambdas_reading_different_globals_differ():
    ns1, ns2 = {"K": 1}, {"K": 2}
    f1 = eval("lambda x: x + K", ns1)
    f2 = eval("lambda x: x + K", ns2)
    assert tokenize(f1) != tokenize(f2)


def test_hook_is_used():
    class A:
        def __init__(self, v, junk):
            self.v, self.junk = v, junk

        def __graphflow_tokenize__(self):
            return self.v

    assert tokenize(A(1, object())) == tokenize(A(1, object()))
    assert tokenize(A(1, None)) != tokenize(A(2, None))


def test_self_referencing_structures_terminate():
    a = [1]
    a.append(a)
    b = [1]
    b.append(b)
    assert tokenize(a) == tokenize(b)
    d = {}
    d["self"] = d
    assert isinstance(tokenize(d), str)


def test_unpicklable_objects_get_random_tokens_or_an_error():
    lock = threading.Lock()
    assert tokenize(lock) != tokenize(lock)
    with gf.config.set(tokenize_ensure_deterministic=True):
        with pytest.raises(TokenizeError, match="__graphflow_tokenize__"):
            tokenize(lock)


def test_lazy_registration_does_not_import_numpy():
    code = ("import sys, graphflow; from graphflow.spec import tokenize; tokenize(1, 'a', [2.0], {'b': None}); "
            "print('numpy' in sys.modules, 'pyarrow' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.split() == ["False", "False"]


def test_custom_registration():
    class Special:
        pass

    normalize_token.register(Special, lambda obj: "always-the-same")
    assert tokenize(Special()) == tokenize(Special())


def test_tokenize_is_thread_safe():
    data = [[i, {"k": [i, i]}] for i in range(200)]
    expected = [tokenize(d) for d in data]
    results = []

    def work():
        results.append([tokenize(d) for d in data])

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(r == expected for r in results)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children) | st.dictionaries(st.text(), children) | st.tuples(children, children),
    max_leaves=20,
)


@given(json_values)
def test_tokenize_is_deterministic_for_arbitrary_data(value):
    import copy

    assert tokenize(value) == tokenize(copy.deepcopy(value))


def test_an_arrow_slice_is_named_by_its_own_rows_not_its_parents_buffer():
    pa = pytest.importorskip("pyarrow")
    import numpy as np

    whole = pa.array(np.arange(1_000, dtype="f8"))
    part = whole.slice(100, 50)
    assert tokenize(part) == tokenize(pa.array(np.arange(100, 150, dtype="f8")))
    assert tokenize(part) != tokenize(whole.slice(101, 50))
