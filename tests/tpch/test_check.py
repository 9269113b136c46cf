"""benchmarks.tpch.check.compare: what it accepts (row order, float noise, dtypes) and what it names."""

import pandas as pd
import pytest

from benchmarks.tpch.check import compare


def test_row_order_and_float_noise_and_dtypes_are_not_differences():
    got = pd.DataFrame({"k": pd.array(["b", "a"], dtype="string"), "n": [2, 1],
                        "x": [2.0 * (1 + 1e-9), 1.0], "d": pd.to_datetime(["1995-01-02", "1995-01-01"])})
    want = pd.DataFrame({"k": ["a", "b"], "n": [1.0, 2.0], "x": [1.0, 2.0],
                         "d": pd.to_datetime(["1995-01-01", "1995-01-02"]).astype("datetime64[us]")},
                        index=[5, 6])
    compare(got, want, 3)


def test_ordered_checks_the_order():
    got = pd.DataFrame({"a": [2, 1]})
    want = pd.DataFrame({"a": [1, 2]})
    compare(got, want, 1)
    with pytest.raises(AssertionError, match=r"q1: column 0 \('a'\), row 0: got 2.0, want 1.0"):
        compare(got, want, 1, ordered=True)


@pytest.mark.parametrize("got, message", [
    (pd.DataFrame({"a": [1.0, 2.001]}), r"q7: column 0 \('a'\), row 1: got 2.001, want 2.0"),
    (pd.DataFrame({"a": [1.0]}), "q7: got 1 rows, want 2"),
    (pd.DataFrame({"a": [1.0, 2.0], "b": [1, 2]}), "q7: got 2 columns"),
    (pd.DataFrame({"b": [1.0, 2.0]}), r"q7: got columns \['b'\], want \['a'\]"),
    (pd.DataFrame({"a": ["1", "2"]}), r"q7: column 0 \('a'\): got dtype object, want float64"),
])
def test_differences_name_query_column_and_row(got, message):
    with pytest.raises(AssertionError, match=message):
        compare(got, pd.DataFrame({"a": [1.0, 2.0]}), 7)


def test_strings_and_nulls():
    want = pd.DataFrame({"s": ["x", None, "y"]})
    compare(pd.DataFrame({"s": pd.array(["y", "x", None], dtype="string")}), want, 2)
    with pytest.raises(AssertionError, match=r"q2: column 0 \('s'\), row 1: got 'y', want 'x'"):
        compare(pd.DataFrame({"s": [None, "z", "y"]}), want, 2)
    compare(pd.DataFrame({"s": [1.0, 2.0]}), pd.DataFrame({"t": [1.0, 2.0]}), 2, check_names=False)


def test_a_scalar_is_the_one_cell():
    compare(1.0 + 1e-9, pd.DataFrame({"revenue": [1.0]}), 6)
    with pytest.raises(AssertionError, match=r"q6: column 0 \('revenue'\), row 0: got 2.0, want 1.0"):
        compare(2.0, pd.DataFrame({"revenue": [1.0]}), 6)
