"""HTML cards (`graphflow.cards`): the facts each one shows, escaping, and no compute."""

import html.parser

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import graphflow as gf
import graphflow.array as ga
import graphflow.dataframe as gd

CALLS = []  # a task that runs appends here: rendering a card must never run one


def counted(x):
    CALLS.append(x)
    return x


def counted_table(table):
    CALLS.append(len(table))
    return table


def fail(x):
    raise ValueError(f"bad {x}")


class _Checker(html.parser.HTMLParser):
    """Collects the text and checks every opened tag is closed (the card is well-formed)."""

    VOID = {"br", "hr", "img", "input", "meta", "link", "line", "rect"}

    def __init__(self):
        super().__init__()
        self.stack, self.text = [], []

    def handle_starttag(self, tag, attrs):
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        pass

    def handle_endtag(self, tag):
        if tag in self.VOID:
            return
        assert self.stack and self.stack[-1] == tag, (self.stack, tag)
        self.stack.pop()

    def handle_data(self, data):
        self.text.append(data)


def parse(card: str) -> str:
    """The card's visible text, after checking it is balanced HTML."""
    checker = _Checker()
    checker.feed(card)
    checker.close()
    assert checker.stack == [], checker.stack
    return " ".join(checker.text)


@pytest.fixture(autouse=True)
def no_calls():
    CALLS.clear()
    yield
    assert CALLS == [], "rendering a card ran a task"


def test_delayed_card():
    x = gf.delayed(counted)(gf.delayed(counted)(1))
    text = parse(x._repr_html_())
    assert "graphflow.Delayed" in text and str(x.key) in text
    assert "Tasks 2" in " ".join(text.split())


def test_array_card():
    x = ga.ones((4000, 3000), chunks=(1000, 500)).map_blocks(counted, dtype=np.float64)
    card = x._repr_html_()
    text = " ".join(parse(card).split())
    assert "(4000, 3000)" in text and "float64" in text and "(1000, 500)" in text
    assert "Blocks 24" in text and "(4, 6)" in text and "91.55 MiB" in text
    assert "Tasks 48" in text  # 24 ones + 24 map_blocks
    assert "<svg" in card and card.count("<line") == 5 + 7  # 4 row blocks, 6 column blocks: their edges


def test_array_card_of_unknown_chunks_and_scalars():
    x = ga.from_array(np.arange(10), chunks=5)
    masked = x[x > 3]  # chunk lengths unknown until computed
    assert "unknown" in parse(masked._repr_html_())
    assert "Shape ()" in " ".join(parse(x.sum()._repr_html_()).split())


def test_dataframe_and_series_cards_escape_names():
    table = pa.table({"<b>k</b>": pa.array([1, 2, 3]), "x": pa.array([1.0, 2.0, 3.0])})
    df = gd.from_arrow(table, npartitions=3).map_partitions(counted_table, meta=table.schema)
    card = df._repr_html_()
    assert "<b>k</b>" not in card and "&lt;b&gt;k&lt;/b&gt;" in card
    text = " ".join(parse(card).split())
    assert "3 partitions" in text and "<b>k</b> int64" in text and "x float64" in text
    assert "Tasks 6" in text
    pdf = pd.DataFrame({"x": [1.0, 2.0]}, index=pd.Index([5, 6], name="when"))
    text = " ".join(parse(gd.from_pandas(pdf, npartitions=1)._repr_html_()).split())
    assert "x float64" in text and "index (when) int64" in text and "__index_level" not in text
    s = df["x"]
    text = " ".join(parse(s._repr_html_()).split())
    assert "graphflow.Series" in text and "Name x" in text and "Type float64" in text and "Partitions 3" in text


@pytest.fixture(scope="module")
def client():
    with gf.Client(n_workers=2, threads_per_worker=1, memory_limit="1GiB") as c:
        yield c


def test_client_and_cluster_cards(client):
    for obj, title in ((client, "graphflow.Client"), (client.cluster, "graphflow.LocalCluster")):
        card = obj._repr_html_()
        text = " ".join(parse(card).split())
        assert title in text and client.scheduler_address in text
        assert "Workers 2" in text and "Threads 2" in text and "Dashboard" in text
        for address in client.cluster.workers:
            assert address in text
        assert "/ 1.00 GiB" in text  # memory used against each worker's limit
    link = getattr(client, "dashboard_link", None)
    if link:
        assert f'href="{link}"' in client._repr_html_()


def test_closed_client_card_does_not_hang():
    c = gf.Client(n_workers=1, threads_per_worker=1)
    c.close()
    text = parse(c._repr_html_())
    assert "closed" in text


def test_future_cards(client):
    fut = client.submit(np.arange, 1000)
    fut.result()
    text = " ".join(parse(fut._repr_html_()).split())
    assert "finished" in text and "ndarray" in text and "Bytes 7." in text and str(fut.key) in text  # 8000 + header
    bad = client.submit(fail, 1, pure=False)
    gf.wait([bad])
    text = parse(bad._repr_html_())
    assert "error" in text and "ValueError" in text and "bad 1" in text
