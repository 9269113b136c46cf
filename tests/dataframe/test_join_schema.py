"""A merge's output schema derived by rules (graphflow/dataframe/join_schema.py) against pyarrow's join of
empty tables, for many key/column/type combinations; and merge building no join while the graph is made."""

import pyarrow as pa
import pytest
from hypothesis import given, settings, strategies as st

import graphflow.dataframe as gd
from graphflow.dataframe.join_schema import derived_schema, join_layout

_HOW = {"inner": "inner", "left": "left outer", "right": "right outer", "outer": "full outer"}

# plain types, dictionary columns, and types pyarrow's join refuses (lists, structs) or may (dictionary keys)
_TYPES = [pa.int8(), pa.int64(), pa.uint32(), pa.float32(), pa.float64(), pa.bool_(), pa.string(),
          pa.large_string(), pa.binary(), pa.timestamp("us"), pa.timestamp("ms", tz="UTC"), pa.date32(),
          pa.duration("s"), pa.decimal128(10, 2), pa.dictionary(pa.int8(), pa.string()),
          pa.list_(pa.int64()), pa.struct([("a", pa.int64())]), pa.null()]
# names that collide with each other once suffixed ("a" + "_x" is "a_x")
_NAMES = ["k", "j", "a", "b", "a_x", "b_y", "k_x"]


@st.composite
def _join_case(draw):
    def schema(names):
        types = [draw(st.sampled_from(_TYPES)) for _ in names]
        fields = [pa.field(n, t, nullable=t == pa.null() or draw(st.booleans())) for n, t in zip(names, types)]
        meta = draw(st.sampled_from([None, {b"graphflow": b'{"index": []}'}, {b"other": b"1"}]))
        return pa.schema(fields, metadata=meta)

    lnames = draw(st.lists(st.sampled_from(_NAMES), min_size=1, max_size=5, unique=True))
    rnames = draw(st.lists(st.sampled_from(_NAMES), min_size=1, max_size=5, unique=True))
    left, right = schema(lnames), schema(rnames)
    common = [n for n in lnames if n in rnames]
    if common and draw(st.booleans()):  # on=: same names; often the same types too, as after common_key_types
        keys = draw(st.lists(st.sampled_from(common), min_size=1, max_size=2, unique=True))
        lkeys = rkeys = keys
        for k in keys:
            if draw(st.integers(0, 3)):
                i = right.get_field_index(k)
                right = right.set(i, right.field(i).with_type(left.field(k).type))
    else:
        n = draw(st.integers(1, min(2, len(lnames), len(rnames))))
        lkeys = draw(st.permutations(lnames))[:n]
        rkeys = draw(st.permutations(rnames))[:n]
        for a, b in zip(lkeys, rkeys):
            if draw(st.integers(0, 3)):
                i = right.get_field_index(b)
                right = right.set(i, right.field(i).with_type(left.field(a).type))
    how = draw(st.sampled_from(sorted(_HOW)))
    suffixes = draw(st.sampled_from([("_x", "_y"), ("", "_r"), ("_l", "_r"), ("_x", "_x")]))
    return left, right, list(lkeys), list(rkeys), how, suffixes


def _pyarrow_schema(left, right, lkeys, rkeys, how, suffixes):
    """What the engine's join path gives: pyarrow's join of empty tables, columns in layout order."""
    out = left.empty_table().join(right.empty_table(), keys=lkeys, right_keys=rkeys, join_type=_HOW[how],
                                  left_suffix=suffixes[0], right_suffix=suffixes[1],
                                  coalesce_keys=lkeys == rkeys, use_threads=False)
    names = [o for _, _, o in join_layout(lkeys, rkeys, left.names, right.names, suffixes)]
    return out.select(names).schema


@settings(max_examples=400)
@given(_join_case())
def test_derived_schema_is_pyarrows(case):
    """Where the rules give a schema it is pyarrow's, field for field (types, nullability promoted, no
    metadata); where pyarrow refuses the join, the rules give none (the merge then raises pyarrow's error)."""
    left, right, lkeys, rkeys, how, suffixes = case
    derived = derived_schema(lkeys, rkeys, left, right, suffixes)
    try:
        want = _pyarrow_schema(left, right, lkeys, rkeys, how, suffixes)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError, KeyError):
        assert derived is None
        return
    if derived is not None:
        assert derived.equals(want, check_metadata=True), (derived, want)
        assert all(f.nullable for f in derived)


@pytest.mark.parametrize("how", sorted(_HOW))
def test_plain_merges_are_derived(how):
    """The usual merges (keys of one type, plain columns, a name on both sides) take the rules."""
    left = pa.schema([pa.field("k", pa.int64(), nullable=False), ("v", pa.string()),
                      ("d", pa.dictionary(pa.int8(), pa.string()))])
    right = pa.schema([("k", pa.int64()), ("v", pa.float64()), ("t", pa.timestamp("ns"))])
    for lk, rk in ((["k"], ["k"]), (["v"], ["t"])):
        if left.field(lk[0]).type != right.field(rk[0]).type:
            assert derived_schema(lk, rk, left, right, ("_x", "_y")) is None
            continue
        derived = derived_schema(lk, rk, left, right, ("_x", "_y"))
        assert derived is not None
        assert derived.equals(_pyarrow_schema(left, right, lk, rk, how, ("_x", "_y")), check_metadata=True)


def test_merge_builds_without_a_join(monkeypatch):
    """``merge`` on keys of one type builds its graph without running the join op (an empty pyarrow join,
    ~1.5 ms each; counted); mismatched key types still raise the clear TypeError from the join fallback."""
    import graphflow.dataframe.join as join_module

    calls = []
    real = join_module._Join.__call__
    monkeypatch.setattr(join_module._Join, "__call__", lambda *a, **k: calls.append(1) or real(*a, **k))
    a = gd.from_dict({"k": [1, 2, 3], "v": ["a", "b", "c"]}, npartitions=2)
    b = gd.from_dict({"k": [1, 3, 4], "v": [10.0, 30.0, 40.0]})
    for how in sorted(_HOW):
        out = a.merge(b, on="k", how=how)
        assert list(out.columns) == ["k", "v_x", "v_y"]
    assert calls == []
    got = a.merge(b, on="k", how="outer").compute(scheduler="sync").sort_values("k", ignore_index=True)
    assert got.k.tolist() == [1, 2, 3, 4] and got.v_y.isna().tolist() == [False, True, False, False]
    assert got.v_x.isna().tolist() == [False, False, False, True]
    s = gd.from_dict({"k": ["1", "2"], "w": [1, 2]})
    with pytest.raises(TypeError, match="cannot merge on"):
        a.merge(s, on="k")
