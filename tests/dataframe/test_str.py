"""The ``.str`` accessor against pandas on random strings with nulls, over several partitionings."""

import dask.dataframe as dd
import numpy as np
import pandas as pd
import pandas.testing as tm
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import graphflow.dataframe as gd

WORDS = ["ab c", "Cd-e", "x1", " Yz ", "ABC", "hello world", "a-b-c-d", "42", "Title Case", "ß", "", "tab\there"]


def _frame(seed, n=23):
    rng = np.random.default_rng(seed)
    values = [None if rng.random() < 0.2 else WORDS[i] for i in rng.integers(0, len(WORDS), n)]
    return pd.DataFrame({"s": pd.Series(values, dtype="str"), "t": pd.Series(values[::-1], dtype="str")})


def _same(got, want):
    if isinstance(want, pd.DataFrame):
        tm.assert_frame_equal(got, want, check_column_type=False)
    else:
        tm.assert_series_equal(got, want)


# (name, call) — each call works on a pandas Series ``s`` and on ours alike
CASES = [
    ("lower", lambda s: s.str.lower()), ("upper", lambda s: s.str.upper()), ("len", lambda s: s.str.len()),
    ("strip", lambda s: s.str.strip()), ("lstrip", lambda s: s.str.lstrip()), ("rstrip", lambda s: s.str.rstrip("e ")),
    ("strip_chars", lambda s: s.str.strip("a ")),
    ("contains", lambda s: s.str.contains("b")), ("contains_re", lambda s: s.str.contains(r"\d+")),
    ("contains_case", lambda s: s.str.contains("ab", case=False)),
    ("contains_lit", lambda s: s.str.contains("-", regex=False)),
    ("contains_na", lambda s: s.str.contains("a", na=True)),
    ("startswith", lambda s: s.str.startswith("a")), ("endswith", lambda s: s.str.endswith("e")),
    ("startswith_tuple", lambda s: s.str.startswith(("a", "C"))),
    ("slice", lambda s: s.str.slice(1, 3)), ("slice_neg", lambda s: s.str.slice(-3)),
    ("slice_step", lambda s: s.str.slice(0, None, 2)), ("slice_rev", lambda s: s.str.slice(None, None, -1)),
    ("getitem", lambda s: s.str[1:3]),
    ("replace", lambda s: s.str.replace("-", "+")), ("replace_n", lambda s: s.str.replace("-", "+", n=1)),
    ("replace_re", lambda s: s.str.replace(r"[a-c]", "_", regex=True)),
    ("capitalize", lambda s: s.str.capitalize()), ("casefold", lambda s: s.str.casefold()),
    ("swapcase", lambda s: s.str.swapcase()), ("title", lambda s: s.str.title()),
    ("pad", lambda s: s.str.pad(8, side="both", fillchar="*")), ("center", lambda s: s.str.center(9)),
    ("ljust", lambda s: s.str.ljust(7, "-")), ("rjust", lambda s: s.str.rjust(7)), ("zfill", lambda s: s.str.zfill(5)),
    ("find", lambda s: s.str.find("c")), ("rfind", lambda s: s.str.rfind("c")), ("count", lambda s: s.str.count("c")),
    ("get", lambda s: s.str.get(1)), ("join", lambda s: s.str.join("|")),
    ("match", lambda s: s.str.match(r"[a-z]")), ("fullmatch", lambda s: s.str.fullmatch(r"\w+")),
    ("isalpha", lambda s: s.str.isalpha()), ("isdigit", lambda s: s.str.isdigit()),
    ("isnumeric", lambda s: s.str.isnumeric()), ("isalnum", lambda s: s.str.isalnum()),
    ("isspace", lambda s: s.str.isspace()), ("islower", lambda s: s.str.islower()),
    ("isupper", lambda s: s.str.isupper()), ("istitle", lambda s: s.str.istitle()),
    ("isdecimal", lambda s: s.str.isdecimal()), ("repeat", lambda s: s.str.repeat(2)),
    ("wrap", lambda s: s.str.wrap(3)), ("normalize", lambda s: s.str.normalize("NFKD")),
    ("translate", lambda s: s.str.translate(str.maketrans("abc", "xyz"))),
    ("removeprefix", lambda s: s.str.removeprefix("a")), ("removesuffix", lambda s: s.str.removesuffix("e")),
    ("slice_replace", lambda s: s.str.slice_replace(1, 2, "#")),
    ("split_expand", lambda s: s.str.split("-", n=2, expand=True)),
    ("split_ws_expand", lambda s: s.str.split(n=1, expand=True)),
    ("rsplit_expand", lambda s: s.str.rsplit("-", n=1, expand=True)),
    ("extract", lambda s: s.str.extract(r"([a-z])([a-z])")), ("extract_named", lambda s: s.str.extract(r"(?P<x>\d)")),
    ("extract_series", lambda s: s.str.extract(r"(\w)", expand=False)),
    ("partition", lambda s: s.str.partition("-")), ("rpartition", lambda s: s.str.rpartition(" ")),
]


@pytest.mark.api("Series.str")
@pytest.mark.parametrize("name,call", CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("npartitions", [1, 3, 7])
def test_str_method_matches_pandas(name, call, npartitions):
    pdf = _frame(npartitions)
    df = gd.from_pandas(pdf, npartitions=npartitions)
    _same(call(df.s).compute(scheduler="sync"), call(pdf.s))


def _lists(s):
    return s.map(lambda v: list(v) if isinstance(v, (list, np.ndarray)) else None)


@pytest.mark.api("Series.str")
@pytest.mark.parametrize("call", [lambda s: s.str.split("-"), lambda s: s.str.split(), lambda s: s.str.rsplit("-", n=1),
                                  lambda s: s.str.split("-", n=1), lambda s: s.str.findall(r"[a-c]")])
def test_str_to_lists_matches_pandas(call):
    """Lists come back as arrays in an object Series (Arrow's list type); the elements match pandas'."""
    pdf = _frame(5)
    got = call(gd.from_pandas(pdf, npartitions=3).s).compute(scheduler="sync")
    tm.assert_series_equal(_lists(got), _lists(call(pdf.s)))


@pytest.mark.api("Series.str")
def test_str_cat_extractall_encode_decode_index():
    pdf = _frame(11)
    df = gd.from_pandas(pdf, npartitions=4)
    assert df.s.str.cat(sep=",").compute(scheduler="sync") == pdf.s.str.cat(sep=",")
    assert df.s.str.cat(sep="/", na_rep="?").compute(scheduler="sync") == pdf.s.str.cat(sep="/", na_rep="?")
    tm.assert_series_equal(df.s.str.cat(df.t, sep="+").compute(scheduler="sync"), pdf.s.str.cat(pdf.t, sep="+"))
    tm.assert_series_equal(df.s.str.cat([df.t], na_rep="-").compute(scheduler="sync"),
                           pdf.s.str.cat([pdf.t], na_rep="-"))
    tm.assert_frame_equal(df.s.str.extractall(r"([a-c])").compute(scheduler="sync"), pdf.s.str.extractall(r"([a-c])"),
                          check_column_type=False)
    enc = df.s.str.encode("utf-8").compute(scheduler="sync")
    assert enc.tolist() == [None if v is None or v is np.nan else v for v in pdf.s.str.encode("utf-8").tolist()]
    tm.assert_series_equal(df.s.str.encode("utf-8").str.decode("utf-8").compute(scheduler="sync"), pdf.s)
    dense = pd.DataFrame({"s": pd.Series(["abc", "cab", "bca"], dtype="str")})
    tm.assert_series_equal(gd.from_pandas(dense, npartitions=2).s.str.index("c").compute(scheduler="sync"),
                           dense.s.str.index("c"))
    tm.assert_series_equal(gd.from_pandas(dense, npartitions=2).s.str.rindex("c").compute(scheduler="sync"),
                           dense.s.str.rindex("c"))


@pytest.mark.api("Series.str")
@settings(max_examples=20, deadline=None)
@given(st.lists(st.one_of(st.none(), st.text(alphabet="ab -Xy1", max_size=8)), min_size=1, max_size=30),
       st.integers(1, 5))
def test_str_kernels_any_partitioning(values, npartitions):
    """The kernel-backed methods on arbitrary strings and partitionings."""
    ps = pd.Series(values, dtype="str", name="s")
    s = gd.from_pandas(ps, npartitions=npartitions)
    for call in (lambda x: x.str.upper(), lambda x: x.str.len(), lambda x: x.str.strip(),
                 lambda x: x.str.contains("a"), lambda x: x.str.slice(1, 4), lambda x: x.str.replace(" ", "_"),
                 lambda x: x.str.startswith("X")):
        _same(call(s).compute(scheduler="sync"), call(ps))
    # always n + 1 columns (as Dask): pandas gives fewer when no value splits n times
    want = ps.str.split("-", n=1, expand=True).reindex(columns=range(2)).astype("str")
    _same(s.str.split("-", n=1, expand=True).compute(scheduler="sync"), want)


def test_str_errors_as_dask():
    df = gd.from_pandas(_frame(1), npartitions=2)
    with pytest.raises(NotImplementedError, match="n= parameter"):
        df.s.str.split("-", expand=True)
    with pytest.raises(AttributeError, match="Can only use .str accessor with string values"):
        gd.from_pandas(pd.DataFrame({"x": [1, 2]}), npartitions=1).x.str
    with pytest.raises(TypeError, match="others must be Series/Index"):
        df.s.str.cat(["a", "b"])


DASK_STR = sorted(n for n in dir(dd.Series.str) if not n.startswith("_"))
OTHERS = {"split", "rsplit", "findall", "cat", "extractall", "encode", "decode", "index", "rindex", "slice_replace",
          "removeprefix", "removesuffix"}
TESTED = {c[0].split("_")[0] for c in CASES} | OTHERS


@pytest.mark.api("Series.str")
@pytest.mark.parametrize("name", DASK_STR)
def test_every_dask_str_method_exists_and_is_compared(name):
    """Breadth: every public name of Dask's str accessor is ours, and one of the comparisons above uses it."""
    s = gd.from_pandas(_frame(0), npartitions=2).s
    assert callable(getattr(s.str, name))
    assert name in TESTED, f"str.{name} has no comparison with pandas in this file"
