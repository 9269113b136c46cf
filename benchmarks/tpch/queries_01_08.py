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


def q2(t):
    """Minimum cost supplier: for each size-15 BRASS part, the European suppliers at the lowest cost."""
    region = t["region"][t["region"].r_name == "EUROPE"]
    nation = t["nation"].merge(region, left_on="n_regionkey", right_on="r_regionkey")
    supplier = t["supplier"].merge(nation, left_on="s_nationkey", right_on="n_nationkey")
    partsupp = t["partsupp"].merge(supplier, left_on="ps_suppkey", right_on="s_suppkey")
    part = t["part"]
    part = part[(part.p_size == 15) & part.p_type.str.endswith("BRASS")]
    offers = part.merge(partsupp, left_on="p_partkey", right_on="ps_partkey")
    cheapest = offers.groupby("p_partkey").ps_supplycost.min().reset_index()
    best = offers.merge(cheapest, on=["p_partkey", "ps_supplycost"])
    best = best[["s_acctbal", "s_name", "n_name", "p_partkey", "p_mfgr", "s_address", "s_phone", "s_comment"]]
    best = best.sort_values(["s_acctbal", "n_name", "s_name", "p_partkey"], ascending=[False, True, True, True])
    return best.head(100, compute=False, npartitions=-1)


def q3(t):
    """Shipping priority: the 10 unshipped orders of the BUILDING segment with the most revenue."""
    customer = t["customer"][t["customer"].c_mktsegment == "BUILDING"]
    orders = t["orders"][t["orders"].o_orderdate < pd.Timestamp("1995-03-15")]
    lineitem = t["lineitem"][t["lineitem"].l_shipdate > pd.Timestamp("1995-03-15")]
    j = customer.merge(orders, left_on="c_custkey", right_on="o_custkey")
    j = j.merge(lineitem, left_on="o_orderkey", right_on="l_orderkey")
    j = j.assign(revenue=j.l_extendedprice * (1 - j.l_discount))
    out = j.groupby(["l_orderkey", "o_orderdate", "o_shippriority"]).revenue.sum().reset_index()
    out = out[["l_orderkey", "revenue", "o_orderdate", "o_shippriority"]]
    out = out.sort_values(["revenue", "o_orderdate"], ascending=[False, True])
    return out.head(10, compute=False, npartitions=-1)


def q4(t):
    """Order priority checking: orders of 1993Q3 with a line received after its commit date, by priority."""
    orders = t["orders"]
    orders = orders[(orders.o_orderdate >= pd.Timestamp("1993-07-01"))
                    & (orders.o_orderdate < pd.Timestamp("1993-10-01"))]
    lineitem = t["lineitem"]
    late = lineitem[lineitem.l_commitdate < lineitem.l_receiptdate][["l_orderkey"]].drop_duplicates()
    orders = orders.merge(late, left_on="o_orderkey", right_on="l_orderkey")  # EXISTS: a semi join
    out = orders.groupby("o_orderpriority").o_orderkey.count().reset_index()
    out = out.rename(columns={"o_orderkey": "order_count"})
    return out.sort_values("o_orderpriority")


def q5(t):
    """Local supplier volume: 1994 revenue of Asian nations from customers buying from their own nation."""
    region = t["region"][t["region"].r_name == "ASIA"]
    orders = t["orders"]
    orders = orders[(orders.o_orderdate >= pd.Timestamp("1994-01-01"))
                    & (orders.o_orderdate < pd.Timestamp("1995-01-01"))]
    nation = t["nation"].merge(region, left_on="n_regionkey", right_on="r_regionkey")
    customer = t["customer"].merge(nation, left_on="c_nationkey", right_on="n_nationkey")
    j = customer.merge(orders, left_on="c_custkey", right_on="o_custkey")
    j = j.merge(t["lineitem"], left_on="o_orderkey", right_on="l_orderkey")
    j = j.merge(t["supplier"], left_on=["l_suppkey", "c_nationkey"], right_on=["s_suppkey", "s_nationkey"])
    j = j.assign(revenue=j.l_extendedprice * (1 - j.l_discount))
    out = j.groupby("n_name").revenue.sum().reset_index()
    return out.sort_values("revenue", ascending=False)


def q6(t):
    """Forecasting revenue change: revenue from 1994 lines with a 5-7% discount and fewer than 24 units."""
    li = t["lineitem"]
    li = li[(li.l_shipdate >= pd.Timestamp("1994-01-01")) & (li.l_shipdate < pd.Timestamp("1995-01-01"))
            & (li.l_discount >= 0.05) & (li.l_discount <= 0.07) & (li.l_quantity < 24)]
    return (li.l_extendedprice * li.l_discount).sum()


def q7(t):
    """Volume shipping: 1995-96 trade between FRANCE and GERMANY, by supplier nation, customer nation, year."""
    nation = t["nation"][t["nation"].n_name.isin(["FRANCE", "GERMANY"])]
    supp_nation = nation[["n_nationkey", "n_name"]].rename(columns={"n_name": "supp_nation"})
    cust_nation = nation[["n_nationkey", "n_name"]].rename(columns={"n_name": "cust_nation"})
    supplier = t["supplier"].merge(supp_nation, left_on="s_nationkey", right_on="n_nationkey")
    customer = t["customer"].merge(cust_nation, left_on="c_nationkey", right_on="n_nationkey")
    li = t["lineitem"]
    li = li[(li.l_shipdate >= pd.Timestamp("1995-01-01")) & (li.l_shipdate <= pd.Timestamp("1996-12-31"))]
    j = li.merge(supplier, left_on="l_suppkey", right_on="s_suppkey")
    j = j.merge(t["orders"], left_on="l_orderkey", right_on="o_orderkey")
    j = j.merge(customer, left_on="o_custkey", right_on="c_custkey")
    j = j[((j.supp_nation == "FRANCE") & (j.cust_nation == "GERMANY"))
          | ((j.supp_nation == "GERMANY") & (j.cust_nation == "FRANCE"))]
    j = j.assign(l_year=j.l_shipdate.dt.year, volume=j.l_extendedprice * (1 - j.l_discount))
    out = j.groupby(["supp_nation", "cust_nation", "l_year"]).volume.sum().reset_index()
    out = out.rename(columns={"volume": "revenue"})
    return out.sort_values(["supp_nation", "cust_nation", "l_year"])


def q8(t):
    """National market share: BRAZIL's share of ECONOMY ANODIZED STEEL sold in AMERICA, 1995 and 1996."""
    region = t["region"][t["region"].r_name == "AMERICA"]
    part = t["part"][t["part"].p_type == "ECONOMY ANODIZED STEEL"]
    orders = t["orders"]
    orders = orders[(orders.o_orderdate >= pd.Timestamp("1995-01-01"))
                    & (orders.o_orderdate <= pd.Timestamp("1996-12-31"))]
    cust_nation = t["nation"].merge(region, left_on="n_regionkey", right_on="r_regionkey")[["n_nationkey"]]
    customer = t["customer"].merge(cust_nation, left_on="c_nationkey", right_on="n_nationkey")
    supp_nation = t["nation"][["n_nationkey", "n_name"]].rename(columns={"n_name": "nation"})
    supplier = t["supplier"].merge(supp_nation, left_on="s_nationkey", right_on="n_nationkey")
    j = t["lineitem"].merge(part, left_on="l_partkey", right_on="p_partkey")
    j = j.merge(orders, left_on="l_orderkey", right_on="o_orderkey")
    j = j.merge(customer, left_on="o_custkey", right_on="c_custkey")
    j = j.merge(supplier, left_on="l_suppkey", right_on="s_suppkey")
    j = j.assign(o_year=j.o_orderdate.dt.year, volume=j.l_extendedprice * (1 - j.l_discount))
    j = j.assign(brazil_volume=j.volume.where(j.nation == "BRAZIL", 0.0))
    out = j.groupby("o_year")[["brazil_volume", "volume"]].sum().reset_index()
    out = out.assign(mkt_share=out.brazil_volume / out.volume)[["o_year", "mkt_share"]]
    return out.sort_values("o_year")


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
    2: """
select s_acctbal, s_name, n_name, p_partkey, p_mfgr, s_address, s_phone, s_comment
from part, supplier, partsupp, nation, region
where p_partkey = ps_partkey and s_suppkey = ps_suppkey and p_size = 15 and p_type like '%BRASS'
  and s_nationkey = n_nationkey and n_regionkey = r_regionkey and r_name = 'EUROPE'
  and ps_supplycost = (
    select min(ps_supplycost)
    from partsupp, supplier, nation, region
    where p_partkey = ps_partkey and s_suppkey = ps_suppkey and s_nationkey = n_nationkey
      and n_regionkey = r_regionkey and r_name = 'EUROPE')
order by s_acctbal desc, n_name, s_name, p_partkey
limit 100
""",
    3: """
select l_orderkey, sum(l_extendedprice * (1 - l_discount)) as revenue, o_orderdate, o_shippriority
from customer, orders, lineitem
where c_mktsegment = 'BUILDING' and c_custkey = o_custkey and l_orderkey = o_orderkey
  and o_orderdate < date '1995-03-15' and l_shipdate > date '1995-03-15'
group by l_orderkey, o_orderdate, o_shippriority
order by revenue desc, o_orderdate
limit 10
""",
    4: """
select o_orderpriority, count(*) as order_count
from orders
where o_orderdate >= date '1993-07-01' and o_orderdate < date '1993-10-01'
  and exists (select * from lineitem where l_orderkey = o_orderkey and l_commitdate < l_receiptdate)
group by o_orderpriority
order by o_orderpriority
""",
    5: """
select n_name, sum(l_extendedprice * (1 - l_discount)) as revenue
from customer, orders, lineitem, supplier, nation, region
where c_custkey = o_custkey and l_orderkey = o_orderkey and l_suppkey = s_suppkey
  and c_nationkey = s_nationkey and s_nationkey = n_nationkey and n_regionkey = r_regionkey
  and r_name = 'ASIA' and o_orderdate >= date '1994-01-01' and o_orderdate < date '1995-01-01'
group by n_name
order by revenue desc
""",
    6: """
select sum(l_extendedprice * l_discount) as revenue
from lineitem
where l_shipdate >= date '1994-01-01' and l_shipdate < date '1995-01-01'
  and l_discount between 0.05 and 0.07 and l_quantity < 24
""",
    7: """
select supp_nation, cust_nation, l_year, sum(volume) as revenue
from (
  select n1.n_name as supp_nation, n2.n_name as cust_nation, extract(year from l_shipdate) as l_year,
         l_extendedprice * (1 - l_discount) as volume
  from supplier, lineitem, orders, customer, nation n1, nation n2
  where s_suppkey = l_suppkey and o_orderkey = l_orderkey and c_custkey = o_custkey
    and s_nationkey = n1.n_nationkey and c_nationkey = n2.n_nationkey
    and ((n1.n_name = 'FRANCE' and n2.n_name = 'GERMANY') or (n1.n_name = 'GERMANY' and n2.n_name = 'FRANCE'))
    and l_shipdate between date '1995-01-01' and date '1996-12-31'
) as shipping
group by supp_nation, cust_nation, l_year
order by supp_nation, cust_nation, l_year
""",
    8: """
select o_year, sum(case when nation = 'BRAZIL' then volume else 0 end) / sum(volume) as mkt_share
from (
  select extract(year from o_orderdate) as o_year, l_extendedprice * (1 - l_discount) as volume,
         n2.n_name as nation
  from part, supplier, lineitem, orders, customer, nation n1, nation n2, region
  where p_partkey = l_partkey and s_suppkey = l_suppkey and l_orderkey = o_orderkey
    and o_custkey = c_custkey and c_nationkey = n1.n_nationkey and n1.n_regionkey = r_regionkey
    and r_name = 'AMERICA' and s_nationkey = n2.n_nationkey
    and o_orderdate between date '1995-01-01' and date '1996-12-31'
    and p_type = 'ECONOMY ANODIZED STEEL'
) as all_nations
group by o_year
order by o_year
""",
}

QUERIES = {1: q1, 2: q2, 3: q3, 4: q4, 5: q5, 6: q6, 7: q7, 8: q8}
