"""TPC-H queries 16-22, written once the way a Dask user writes them, run on graphflow.dataframe or dask.dataframe.

Each ``QUERIES[n]`` takes ``tables`` (table name -> a lazy frame from ``read_parquet`` of either library) and
returns the lazy answer, ordered and limited as the SQL's ORDER BY / LIMIT; ``.compute()`` gives pandas.
``SQL[n]`` is the same query for DuckDB and Polars, with the validation parameters of the TPC-H
specification (revision 3, section 2.4).  Dates in the tables are timestamps, decimals are float64.

Subqueries become what pandas users write:
 - ``x IN (subquery)`` (uncorrelated, q18/q20): an inner merge with the subquery's distinct keys (a semi join);
 - ``NOT IN`` / ``NOT EXISTS`` (q16/q22): ``merge(how="left", indicator=True)`` keeping ``"left_only"`` rows
   (an anti join);
 - a correlated aggregate (q17's avg per part, q20's sum per part and supplier): a groupby on the
   correlation keys merged back;
 - q21's EXISTS / NOT EXISTS on the same order with another supplier: per order, the number of distinct
   suppliers (> 1: another supplier exists) and of distinct late suppliers (== 1: no other is late);
 - a scalar subquery (q22's average balance): a lazy scalar inside the filter.

A one-row answer (q17, q19) is a frame made from a column sum (``df[[c]].sum().to_frame(c)``), so both
libraries give a pandas DataFrame.
"""

from __future__ import annotations

import pandas as pd

__all__ = ["QUERIES", "SQL"]


def _one_row(df, column):
    """The one-row frame ``column = sum(df[column])`` (an SQL aggregate without GROUP BY)."""
    return df[[column]].sum(min_count=1).to_frame(column).reset_index(drop=True)


def _anti(left, right, left_on, right_on):
    """Rows of ``left`` with no match in ``right`` (NOT EXISTS / NOT IN on non-null keys)."""
    marked = left.merge(right, left_on=left_on, right_on=right_on, how="left", indicator=True)
    return marked[marked._merge == "left_only"][list(left.columns)]


def q16(t):
    part, partsupp, supplier = t["part"], t["partsupp"], t["supplier"]
    p = part[(part.p_brand != "Brand#45") & ~part.p_type.str.startswith("MEDIUM POLISHED")
             & part.p_size.isin([49, 14, 23, 45, 19, 3, 36, 9])]
    complaints = supplier[supplier.s_comment.str.contains("Customer.*Complaints")][["s_suppkey"]]
    ps = partsupp[["ps_partkey", "ps_suppkey"]].merge(p[["p_partkey", "p_brand", "p_type", "p_size"]],
                                                      left_on="ps_partkey", right_on="p_partkey")
    ps = _anti(ps, complaints, "ps_suppkey", "s_suppkey")
    out = ps.groupby(["p_brand", "p_type", "p_size"]).ps_suppkey.nunique().reset_index()
    out = out.rename(columns={"ps_suppkey": "supplier_cnt"})
    return out.sort_values(["supplier_cnt", "p_brand", "p_type", "p_size"], ascending=[False, True, True, True])


def q17(t):
    lineitem, part = t["lineitem"], t["part"]
    p = part[(part.p_brand == "Brand#23") & (part.p_container == "MED BOX")][["p_partkey"]]
    li = lineitem[["l_partkey", "l_quantity", "l_extendedprice"]].merge(p, left_on="l_partkey",
                                                                        right_on="p_partkey")
    avg = li.groupby("l_partkey").l_quantity.mean().reset_index().rename(columns={"l_quantity": "avg_quantity"})
    li = li.merge(avg, on="l_partkey")
    li = li[li.l_quantity < 0.2 * li.avg_quantity]
    li = li.assign(avg_yearly=li.l_extendedprice / 7.0)
    return _one_row(li, "avg_yearly")


def q18(t):
    lineitem, orders, customer = t["lineitem"], t["orders"], t["customer"]
    qty = lineitem.groupby("l_orderkey").l_quantity.sum().reset_index()
    big = qty[qty.l_quantity > 300][["l_orderkey"]]
    o = orders[["o_orderkey", "o_custkey", "o_orderdate", "o_totalprice"]]
    o = o.merge(big, left_on="o_orderkey", right_on="l_orderkey")[list(o.columns)]
    j = o.merge(customer[["c_custkey", "c_name"]], left_on="o_custkey", right_on="c_custkey")
    j = j.merge(lineitem[["l_orderkey", "l_quantity"]], left_on="o_orderkey", right_on="l_orderkey")
    out = j.groupby(["c_name", "c_custkey", "o_orderkey", "o_orderdate", "o_totalprice"]).l_quantity.sum()
    out = out.reset_index().rename(columns={"l_quantity": "sum_qty"})
    return out.sort_values(["o_totalprice", "o_orderdate"], ascending=[False, True]).head(100, compute=False)


def q19(t):
    lineitem, part = t["lineitem"], t["part"]
    li = lineitem[lineitem.l_shipmode.isin(["AIR", "AIR REG"]) & (lineitem.l_shipinstruct == "DELIVER IN PERSON")]
    li = li[["l_partkey", "l_quantity", "l_extendedprice", "l_discount"]]
    j = li.merge(part[["p_partkey", "p_brand", "p_container", "p_size"]], left_on="l_partkey", right_on="p_partkey")
    keep = None
    for brand, size, containers, low in (("Brand#12", 5, "SM", 1), ("Brand#23", 10, "MED", 10),
                                         ("Brand#34", 15, "LG", 20)):
        kinds = ["CASE", "BOX", "PACK", "PKG"] if containers != "MED" else ["BAG", "BOX", "PKG", "PACK"]
        case = ((j.p_brand == brand) & j.p_container.isin([f"{containers} {k}" for k in kinds])
                & (j.l_quantity >= low) & (j.l_quantity <= low + 10) & (j.p_size >= 1) & (j.p_size <= size))
        keep = case if keep is None else keep | case
    j = j[keep]
    j = j.assign(revenue=j.l_extendedprice * (1 - j.l_discount))
    return _one_row(j, "revenue")


def q20(t):
    lineitem, part, partsupp, supplier, nation = (t["lineitem"], t["part"], t["partsupp"], t["supplier"],
                                                  t["nation"])
    forest = part[part.p_name.str.startswith("forest")][["p_partkey"]]
    li = lineitem[(lineitem.l_shipdate >= pd.Timestamp("1994-01-01"))
                  & (lineitem.l_shipdate < pd.Timestamp("1995-01-01"))]
    shipped = li.groupby(["l_partkey", "l_suppkey"]).l_quantity.sum().reset_index()
    ps = partsupp[["ps_partkey", "ps_suppkey", "ps_availqty"]].merge(forest, left_on="ps_partkey",
                                                                     right_on="p_partkey")
    ps = ps.merge(shipped, left_on=["ps_partkey", "ps_suppkey"], right_on=["l_partkey", "l_suppkey"])
    ps = ps[ps.ps_availqty > 0.5 * ps.l_quantity]
    keys = ps[["ps_suppkey"]].drop_duplicates()
    canada = nation[nation.n_name == "CANADA"][["n_nationkey"]]
    s = supplier[["s_suppkey", "s_name", "s_address", "s_nationkey"]].merge(canada, left_on="s_nationkey",
                                                                            right_on="n_nationkey")
    s = s.merge(keys, left_on="s_suppkey", right_on="ps_suppkey")
    return s[["s_name", "s_address"]].sort_values("s_name")


def q21(t):
    lineitem, orders, supplier, nation = t["lineitem"], t["orders"], t["supplier"], t["nation"]
    li = lineitem[["l_orderkey", "l_suppkey", "l_receiptdate", "l_commitdate"]]
    late = li[li.l_receiptdate > li.l_commitdate][["l_orderkey", "l_suppkey"]]
    # EXISTS another supplier on the order: the order has more than one supplier
    suppliers = li.groupby("l_orderkey").l_suppkey.nunique().reset_index()
    multi = suppliers[suppliers.l_suppkey > 1][["l_orderkey"]]
    # NOT EXISTS another late supplier on the order: the late line's supplier is the order's only late one
    late_suppliers = late.groupby("l_orderkey").l_suppkey.nunique().reset_index()
    alone = late_suppliers[late_suppliers.l_suppkey == 1][["l_orderkey"]]
    saudi = nation[nation.n_name == "SAUDI ARABIA"][["n_nationkey"]]
    s = supplier[["s_suppkey", "s_name", "s_nationkey"]].merge(saudi, left_on="s_nationkey",
                                                               right_on="n_nationkey")
    failed = orders[orders.o_orderstatus == "F"][["o_orderkey"]]
    j = late.merge(s, left_on="l_suppkey", right_on="s_suppkey")
    j = j.merge(failed, left_on="l_orderkey", right_on="o_orderkey")
    j = j.merge(multi, on="l_orderkey").merge(alone, on="l_orderkey")
    out = j.groupby("s_name").l_orderkey.count().reset_index().rename(columns={"l_orderkey": "numwait"})
    return out.sort_values(["numwait", "s_name"], ascending=[False, True]).head(100, compute=False)


def q22(t):
    customer, orders = t["customer"], t["orders"]
    c = customer[["c_custkey", "c_phone", "c_acctbal"]]
    c = c.assign(cntrycode=c.c_phone.str.slice(0, 2))
    c = c[c.cntrycode.isin(["13", "31", "23", "29", "30", "18", "17"])]
    average = c[c.c_acctbal > 0.0].c_acctbal.mean()
    c = c[c.c_acctbal > average][["c_custkey", "cntrycode", "c_acctbal"]]
    c = _anti(c, orders[["o_custkey"]], "c_custkey", "o_custkey")
    out = c.groupby("cntrycode").c_acctbal.agg(["count", "sum"]).reset_index()
    out = out.rename(columns={"count": "numcust", "sum": "totacctbal"})
    return out.sort_values("cntrycode")


QUERIES = {16: q16, 17: q17, 18: q18, 19: q19, 20: q20, 21: q21, 22: q22}

SQL = {
    16: """
select p_brand, p_type, p_size, count(distinct ps_suppkey) as supplier_cnt
from partsupp, part
where p_partkey = ps_partkey
  and p_brand <> 'Brand#45'
  and p_type not like 'MEDIUM POLISHED%'
  and p_size in (49, 14, 23, 45, 19, 3, 36, 9)
  and ps_suppkey not in (select s_suppkey from supplier where s_comment like '%Customer%Complaints%')
group by p_brand, p_type, p_size
order by supplier_cnt desc, p_brand, p_type, p_size
""",
    17: """
select sum(l_extendedprice) / 7.0 as avg_yearly
from lineitem, part
where p_partkey = l_partkey
  and p_brand = 'Brand#23'
  and p_container = 'MED BOX'
  and l_quantity < (select 0.2 * avg(l_quantity) from lineitem where l_partkey = p_partkey)
""",
    18: """
select c_name, c_custkey, o_orderkey, o_orderdate, o_totalprice, sum(l_quantity) as sum_qty
from customer, orders, lineitem
where o_orderkey in (select l_orderkey from lineitem group by l_orderkey having sum(l_quantity) > 300)
  and c_custkey = o_custkey
  and o_orderkey = l_orderkey
group by c_name, c_custkey, o_orderkey, o_orderdate, o_totalprice
order by o_totalprice desc, o_orderdate
limit 100
""",
    19: """
select sum(l_extendedprice * (1 - l_discount)) as revenue
from lineitem, part
where (p_partkey = l_partkey and p_brand = 'Brand#12'
       and p_container in ('SM CASE', 'SM BOX', 'SM PACK', 'SM PKG')
       and l_quantity >= 1 and l_quantity <= 1 + 10 and p_size between 1 and 5
       and l_shipmode in ('AIR', 'AIR REG') and l_shipinstruct = 'DELIVER IN PERSON')
   or (p_partkey = l_partkey and p_brand = 'Brand#23'
       and p_container in ('MED BAG', 'MED BOX', 'MED PKG', 'MED PACK')
       and l_quantity >= 10 and l_quantity <= 10 + 10 and p_size between 1 and 10
       and l_shipmode in ('AIR', 'AIR REG') and l_shipinstruct = 'DELIVER IN PERSON')
   or (p_partkey = l_partkey and p_brand = 'Brand#34'
       and p_container in ('LG CASE', 'LG BOX', 'LG PACK', 'LG PKG')
       and l_quantity >= 20 and l_quantity <= 20 + 10 and p_size between 1 and 15
       and l_shipmode in ('AIR', 'AIR REG') and l_shipinstruct = 'DELIVER IN PERSON')
""",
    20: """
select s_name, s_address
from supplier, nation
where s_suppkey in (
        select ps_suppkey from partsupp
        where ps_partkey in (select p_partkey from part where p_name like 'forest%')
          and ps_availqty > (select 0.5 * sum(l_quantity) from lineitem
                             where l_partkey = ps_partkey and l_suppkey = ps_suppkey
                               and l_shipdate >= date '1994-01-01' and l_shipdate < date '1995-01-01'))
  and s_nationkey = n_nationkey
  and n_name = 'CANADA'
order by s_name
""",
    21: """
select s_name, count(*) as numwait
from supplier, lineitem l1, orders, nation
where s_suppkey = l1.l_suppkey
  and o_orderkey = l1.l_orderkey
  and o_orderstatus = 'F'
  and l1.l_receiptdate > l1.l_commitdate
  and exists (select * from lineitem l2
              where l2.l_orderkey = l1.l_orderkey and l2.l_suppkey <> l1.l_suppkey)
  and not exists (select * from lineitem l3
                  where l3.l_orderkey = l1.l_orderkey and l3.l_suppkey <> l1.l_suppkey
                    and l3.l_receiptdate > l3.l_commitdate)
  and s_nationkey = n_nationkey
  and n_name = 'SAUDI ARABIA'
group by s_name
order by numwait desc, s_name
limit 100
""",
    22: """
select cntrycode, count(*) as numcust, sum(c_acctbal) as totacctbal
from (select substring(c_phone, 1, 2) as cntrycode, c_acctbal
      from customer
      where substring(c_phone, 1, 2) in ('13', '31', '23', '29', '30', '18', '17')
        and c_acctbal > (select avg(c_acctbal) from customer
                         where c_acctbal > 0.00
                           and substring(c_phone, 1, 2) in ('13', '31', '23', '29', '30', '18', '17'))
        and not exists (select * from orders where o_custkey = c_custkey)) as custsale
group by cntrycode
order by cntrycode
""",
}
