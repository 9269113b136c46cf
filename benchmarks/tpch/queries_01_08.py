"""TPC-H queries 1-8, written the way a Dask user writes them, and their SQL for DuckDB and Polars.

Each function takes ``tables`` (table name -> lazy frame from ``read_parquet`` of graphflow.dataframe
OR dask.dataframe) and returns the lazy answer; it uses only the API both libraries share. The SQL
is the query text of the TPC-H specification (revision 3) with its validation substitution
parameters; date arithmetic is folded into literal dates (``DATE '1998-12-01' - INTERVAL '90' DAY``
is written ``DATE '1998-09-02'``) so that DuckDB and Polars read the same text.
Dates are timestamps in the data (`benchmarks.tpch.data`), so the functions compare with
``pandas.Timestamp``.
"""

from __future__ import annotations

import pandas as pd

__all__ = ["QUERIES", "SQL"]


def q1(t):
    """Pricing summary report: aggregates of the lines shipped by 1998-09-02, by return flag and status."""
    li = t["lineitem"]
    li = li[li.l_shipdate <= pd.Timestamp("1998-09-02")]
    li = li.assign(disc_price=li.l_extendedprice * (1 - li.l_discount))
    li = li.assign(charge=li.disc_price * (1 + li.l_tax))
    out = li.groupby(["l_returnflag", "l_linestatus"]).agg(
        sum_qty=("l_quantity", "sum"), sum_base_price=("l_extendedprice", "sum"),
        sum_disc_price=("disc_price", "sum"), sum_charge=("charge", "sum"),
        avg_qty=("l_quantity", "mean"), avg_price=("l_extendedprice", "mean"),
        avg_disc=("l_discount", "mean"), count_order=("l_quantity", "size"))
    return out.reset_index().sort_values(["l_returnflag", "l_linestatus"])


SQL = {
    1: """
select l_returnflag, l_linestatus,
       sum(l_quantity) as sum_qty,
       sum(l_extendedprice) as sum_base_price,
       sum(l_extendedprice * (1 - l_discount)) as sum_disc_price,
       sum(l_extendedprice * (1 - l_discount) * (1 + l_tax)) as sum_charge,
       avg(l_quantity) as avg_qty,
       avg(l_extendedprice) as avg_price,
       avg(l_discount) as avg_disc,
       count(*) as count_order
from lineitem
where l_shipdate <= date '1998-09-02'
group by l_returnflag, l_linestatus
order by l_returnflag, l_linestatus
""",
}

QUERIES = {1: q1}
