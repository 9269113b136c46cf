"""API coverage: which of Dask's public names graphflow has, measured rather than claimed.

``python -m benchmarks.api_coverage dataframe`` compares one *group* of the
API (``dataframe``, ``array``, ``bag``; `groups.GROUPS`) with the installed
Dask.  A group has *sub-groups*, each a set of Dask names with a prefix that
is unique across all groups: ``DataFrame.``, ``Series.``, ``GroupBy.``,
``dd.`` (dask.dataframe's module names), ``Array.``, ``da.``, ``Bag.``,
``db.``.  For each name the report says one of (`count`):

    have      graphflow has it, and a test that compares it with Dask, pandas
              or numpy on the same input passed (and none naming it failed)
    untested  graphflow has the attribute, but no marked test of it passed
    failing   graphflow has it and a marked test of it failed
    absent    graphflow has no such attribute

Only ``have`` counts toward the percentage.  "Has the attribute" is read
statically (`inspect.getattr_static`, so a column called ``sum`` is not a
``sum`` method); "tested" is measured: comparison tests carry a marker ::

    @pytest.mark.api("Series.isin", "DataFrame.dropna")
    def test_isin_matches_pandas(): ...

and the tool runs pytest itself over the group's test directories with
``-m api`` and a small plugin (`plugin`) that records each marked test's
names and outcome (`marked`).  Names the marks give that Dask does not
have (typos) or that are excluded are listed, never counted.

Which Dask names are left out of the count, and why, is in one place:
`excluded`.  The counting rules themselves are pure functions (`count`),
tested without pytest or Dask.  Modules: `groups` (what is compared, and the
introspection of both sides), `excluded`, `marked` + `plugin` (the test
run), `count` (the rules), `report` (text and JSON), `__main__` (the
command line).
"""
