"""TPC-H queries 9-15, written once the way a Dask user writes them.

Each function in `QUERIES` takes the tables (name -> lazy frame from ``read_parquet`` of graphflow.dataframe
or dask.dataframe) and returns the lazy final frame; the caller computes it.  Only the API both libraries
share is used: ``merge`` (inner, left), boolean filters, ``isin``, ``.str`` and ``.dt`` accessors,
``groupby().agg``/``sum``/``count``, lazy scalars compared against a column (q11, q15),
``sort_values`` and ``head(n, compute=False)`` for ORDER BY / LIMIT.  `SQL` holds the same queries as one
SQL statement each (for DuckDB and Polars) with the specification's validation parameters; interval
arithmetic is written out as the resulting dates so that both SQL engines read the same text.

Column conventions (see benchmarks/tpch/data.py): decimals are float64, dates are timestamps.

    >>> sorted(QUERIES) == sorted(SQL) == list(range(9, 16))
    True
"""

from __future__ import annotations

import pandas as pd

__all__ = ["QUERIES", "SQL"]


def _revenue(df):
    """``l_extendedprice * (1 - l_discount)``, the spec's discounted price."""
    return df.l_extendedprice * (1 - df.l_discount)


def q09(t):
    """Product Type Profit Measure: profit per nation and year on parts whose name contains 'green'."""
    part, lineitem, partsupp = t["part"], t["lineitem"], t["partsupp"]
    supplier, orders, nation = t["supplier"], t["orders"], t["nation"]
    green = part[part.p_name.str.contains("green", regex=False)]
    j = green.merge(lineitem, left_on="p_partkey", right_on="l_partkey")
    j = j.merge(partsupp, left_on=["l_suppkey", "l_partkey"], right_on=["ps_suppkey", "ps_partkey"])
    j = j.merge(supplier, left_on="l_suppkey", right_on="s_suppkey")
    j = j.merge(orders, left_on="l_orderkey", right_on="o_orderkey")
    j = j.merge(nation, left_on="s_nationkey", right_on="n_nationkey")
    j = j.assign(nation=j.n_name, o_year=j.o_orderdate.dt.year,
                 amount=_revenue(j) - j.ps_supplycost * j.l_quantity)
    out = j.groupby(["nation", "o_year"]).amount.sum().reset_index()
    out = out.rename(columns={"amount": "sum_profit"})
    return out.sort_values(["nation", "o_year"], ascending=[True, False])


def q10(t):
    """Returned Item Reporting: the 20 customers who lost the most revenue to returns in a quarter."""
    customer, orders, lineitem, nation = t["customer"], t["orders"], t["lineitem"], t["nation"]
    start, end = pd.Timestamp("1993-10-01"), pd.Timestamp("1994-01-01")
    o = orders[(orders.o_orderdate >= start) & (orders.o_orderdate < end)]
    li = lineitem[lineitem.l_returnflag == "R"]
    j = customer.merge(o, left_on="c_custkey", right_on="o_custkey")
    j = j.merge(li, left_on="o_orderkey", right_on="l_orderkey")
    j = j.merge(nation, left_on="c_nationkey", right_on="n_nationkey")
    j = j.assign(revenue=_revenue(j))
    keys = ["c_custkey", "c_name", "c_acctbal", "c_phone", "n_name", "c_address", "c_comment"]
    out = j.groupby(keys).revenue.sum().reset_index()
    out = out[["c_custkey", "c_name", "revenue", "c_acctbal", "n_name", "c_address", "c_phone", "c_comment"]]
    return out.sort_values("revenue", ascending=False).head(20, compute=False)


def q11(t):
    """Important Stock Identification: German parts whose stock value exceeds 0.0001 of the total."""
    partsupp, supplier, nation = t["partsupp"], t["supplier"], t["nation"]
    germany = nation[nation.n_name == "GERMANY"]
    j = partsupp.merge(supplier, left_on="ps_suppkey", right_on="s_suppkey")
    j = j.merge(germany, left_on="s_nationkey", right_on="n_nationkey")
    j = j.assign(value=j.ps_supplycost * j.ps_availqty)
    threshold = j.value.sum() * 0.0001
    out = j.groupby("ps_partkey").value.sum().reset_index()
    out = out[out.value > threshold]
    return out.sort_values("value", ascending=False)


def q12(t):
    """Shipping Modes and Order Priority: late lines per ship mode, split by high and low priority."""
    orders, lineitem = t["orders"], t["lineitem"]
    start, end = pd.Timestamp("1994-01-01"), pd.Timestamp("1995-01-01")
    li = lineitem[lineitem.l_shipmode.isin(["MAIL", "SHIP"])
                  & (lineitem.l_commitdate < lineitem.l_receiptdate)
                  & (lineitem.l_shipdate < lineitem.l_commitdate)
                  & (lineitem.l_receiptdate >= start) & (lineitem.l_receiptdate < end)]
    j = orders.merge(li, left_on="o_orderkey", right_on="l_orderkey")
    high = j.o_orderpriority.isin(["1-URGENT", "2-HIGH"])
    j = j.assign(high_line_count=high.astype("int64"), low_line_count=(~high).astype("int64"))
    out = j.groupby("l_shipmode")[["high_line_count", "low_line_count"]].sum().reset_index()
    return out.sort_values("l_shipmode")


def q13(t):
    """Customer Distribution: how many customers have how many orders (not about special requests)."""
    customer, orders = t["customer"], t["orders"]
    o = orders[~orders.o_comment.str.contains("special.*requests")]
    j = customer.merge(o, left_on="c_custkey", right_on="o_custkey", how="left")
    counts = j.groupby("c_custkey").o_orderkey.count().reset_index()
    counts = counts.rename(columns={"o_orderkey": "c_count"})
    out = counts.groupby("c_count").c_custkey.count().reset_index()
    out = out.rename(columns={"c_custkey": "custdist"})
    return out.sort_values(["custdist", "c_count"], ascending=[False, False])


def q14(t):
    """Promotion Effect: the percentage of a month's revenue that came from promoted parts."""
    lineitem, part = t["lineitem"], t["part"]
    start, end = pd.Timestamp("1995-09-01"), pd.Timestamp("1995-10-01")
    li = lineitem[(lineitem.l_shipdate >= start) & (lineitem.l_shipdate < end)]
    j = li.merge(part, left_on="l_partkey", right_on="p_partkey")
    revenue = _revenue(j)
    j = j.assign(revenue=revenue, promo=revenue.where(j.p_type.str.startswith("PROMO"), 0.0), one=1)
    sums = j.groupby("one")[["promo", "revenue"]].sum()
    sums = sums.assign(promo_revenue=100.0 * sums.promo / sums.revenue)
    return sums[["promo_revenue"]].reset_index(drop=True)


def q15(t):
    """Top Supplier: the supplier(s) with the largest revenue in a quarter."""
    lineitem, supplier = t["lineitem"], t["supplier"]
    start, end = pd.Timestamp("1996-01-01"), pd.Timestamp("1996-04-01")
    li = lineitem[(lineitem.l_shipdate >= start) & (lineitem.l_shipdate < end)]
    li = li.assign(total_revenue=_revenue(li))
    revenue = li.groupby("l_suppkey").total_revenue.sum().reset_index()
    revenue = revenue.rename(columns={"l_suppkey": "supplier_no"})
    top = revenue[revenue.total_revenue == revenue.total_revenue.max()]
    j = supplier.merge(top, left_on="s_suppkey", right_on="supplier_no")
    return j[["s_suppkey", "s_name", "s_address", "s_phone", "total_revenue"]].sort_values("s_suppkey")


QUERIES = {9: q09, 10: q10, 11: q11, 12: q12, 13: q13, 14: q14, 15: q15}

SQL = {
    9: """
select nation, o_year, sum(amount) as sum_profit
from (
    select n_name as nation, extract(year from o_orderdate) as o_year,
           l_extendedprice * (1 - l_discount) - ps_supplycost * l_quantity as amount
    from part, supplier, lineitem, partsupp, orders, nation
    where s_suppkey = l_suppkey and ps_suppkey = l_suppkey and ps_partkey = l_partkey
      and p_partkey = l_partkey and o_orderkey = l_orderkey and s_nationkey = n_nationkey
      and p_name like '%green%'
) as profit
group by nation, o_year
order by nation, o_year desc
""",
    10: """
select c_custkey, c_name, sum(l_extendedprice * (1 - l_discount)) as revenue,
       c_acctbal, n_name, c_address, c_phone, c_comment
from customer, orders, lineitem, nation
where c_custkey = o_custkey and l_orderkey = o_orderkey
  and o_orderdate >= date '1993-10-01' and o_orderdate < date '1994-01-01'
  and l_returnflag = 'R' and c_nationkey = n_nationkey
group by c_custkey, c_name, c_acctbal, c_phone, n_name, c_address, c_comment
order by revenue desc
limit 20
""",
    11: """
select ps_partkey, sum(ps_supplycost * ps_availqty) as value
from partsupp, supplier, nation
where ps_suppkey = s_suppkey and s_nationkey = n_nationkey and n_name = 'GERMANY'
group by ps_partkey
having sum(ps_supplycost * ps_availqty) > (
    select sum(ps_supplycost * ps_availqty) * 0.0001
    from partsupp, supplier, nation
    where ps_suppkey = s_suppkey and s_nationkey = n_nationkey and n_name = 'GERMANY'
)
order by value desc
""",
    12: """
select l_shipmode,
       sum(case when o_orderpriority = '1-URGENT' or o_orderpriority = '2-HIGH' then 1 else 0 end)
           as high_line_count,
       sum(case when o_orderpriority <> '1-URGENT' and o_orderpriority <> '2-HIGH' then 1 else 0 end)
           as low_line_count
from orders, lineitem
where o_orderkey = l_orderkey and l_shipmode in ('MAIL', 'SHIP')
  and l_commitdate < l_receiptdate and l_shipdate < l_commitdate
  and l_receiptdate >= date '1994-01-01' and l_receiptdate < date '1995-01-01'
group by l_shipmode
order by l_shipmode
""",
    13: """
select c_count, count(*) as custdist
from (
    select c_custkey, count(o_orderkey) as c_count
    from customer left outer join orders
      on c_custkey = o_custkey and o_comment not like '%special%requests%'
    group by c_custkey
) as c_orders
group by c_count
order by custdist desc, c_count desc
""",
    14: """
select 100.00 * sum(case when p_type like 'PROMO%' then l_extendedprice * (1 - l_discount) else 0 end)
       / sum(l_extendedprice * (1 - l_discount)) as promo_revenue
from lineitem, part
where l_partkey = p_partkey
  and l_shipdate >= date '1995-09-01' and l_shipdate < date '1995-10-01'
""",
    15: """
with revenue0 as (
    select l_suppkey as supplier_no, sum(l_extendedprice * (1 - l_discount)) as total_revenue
    from lineitem
    where l_shipdate >= date '1996-01-01' and l_shipdate < date '1996-04-01'
    group by l_suppkey
)
select s_suppkey, s_name, s_address, s_phone, total_revenue
from supplier, revenue0
where s_suppkey = supplier_no and total_revenue = (select max(total_revenue) from revenue0)
order by s_suppkey
""",
}
