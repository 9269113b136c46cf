"""`gf.performance_report`: one standalone HTML file (checked with html.parser, no browser here).

The browser test (test_dashboard_browser.py) also opens a report offline in Chromium.
"""

import json
import time
from html.parser import HTMLParser

import pytest

import graphflow as gf
from graphflow.diagnostics.report import render_report, summarize_prefixes
from graphflow.testing.wait import wait_for

_VOID = {"meta", "link", "br", "img", "input", "hr", "area", "base", "col", "embed", "source", "track", "wbr"}


class Checker(HTMLParser):
    """Collects what the tests look at and checks that every element that was opened is closed in order."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack = []
        self.errors = []
        self.external = []  # src/href of <script>, <link>, <img> that point at the network
        self.scripts = []
        self.ids = {}
        self.text = []
        self._in_script = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for name in ("src", "href"):
            value = attrs.get(name) or ""
            if value.startswith(("http://", "https://", "//")):
                self.external.append((tag, value))
        if "id" in attrs:
            self.ids[attrs["id"]] = attrs
        if tag == "script":
            self._in_script = [attrs, ""]
        if tag not in _VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
        else:
            self.stack.pop()
        if tag == "script" and self._in_script is not None:
            self.scripts.append(tuple(self._in_script))
            self._in_script = None

    def handle_data(self, data):
        if self._in_script is not None:
            self._in_script[1] += data
        else:
            self.text.append(data)


def check(page: str) -> Checker:
    parser = Checker()
    parser.feed(page)
    parser.close()
    assert parser.errors == [] and parser.stack == [], (parser.errors, parser.stack)
    assert parser.external == []
    return parser


def record(prefix, i, start, duration, worker="tcp://127.0.0.1:1", status="finished"):
    return {"key": f"{prefix}-{i}", "prefix": prefix, "worker": worker, "thread": i % 2, "start": start,
            "stop": start + duration, "nbytes": 8, "status": status}


def test_render_is_standalone_html_with_the_data():
    records = [record("load", i, 10.0 + i, 0.5) for i in range(4)] + [record("total</script>", 0, 15.0, 2.0)]
    data = {"start": 10.0, "stop": 18.0, "duration": 8.0, "ntasks": len(records), "task_stream": records,
            "prefixes": summarize_prefixes(records),
            "memory": {"tcp://127.0.0.1:1": [{"time": 11.0, "managed": 1, "spilled": 0, "unmanaged": 2, "rss": 3}]},
            "logs": {"tcp://127.0.0.1:1": [[12.0, "WARNING", "spilling <b>a</b>"]]}}
    page = render_report(data, "my report")
    parsed = check(page)
    assert all("src" not in attrs for attrs, _ in parsed.scripts)  # everything is inlined
    assert "GFCharts" in page and "Chart.js v4" in page
    embedded = [body for attrs, body in parsed.scripts if attrs.get("id") == "report-data"]
    assert json.loads(embedded[0]) == json.loads(json.dumps(data))  # a prefix holding "</script>" survives
    text = "".join(parsed.text)
    assert "load" in text and "spilling <b>a</b>" in text  # logs are text, not markup
    assert parsed.ids["summary"]["data-ntasks"] == "5"


def test_summarize_prefixes_orders_by_time():
    rows = summarize_prefixes([record("a", 0, 0.0, 1.0), record("b", 0, 0.0, 3.0), record("a", 1, 0.0, 1.0)])
    assert [(r["prefix"], r["count"], r["seconds"]) for r in rows] == [("b", 1, 3.0), ("a", 2, 2.0)]


def load(i):
    time.sleep(0.002)
    if i == 7:
        print("load 7 says hello to the report")  # lands in its worker's log, and so in the report
    return list(range(i))


def total(*parts):
    return sum(len(p) for p in parts)


def boom(x):
    raise ValueError("no")


@pytest.fixture(scope="module")
def client():
    with gf.Client(n_workers=2, threads_per_worker=1, memory_limit="1GiB", dashboard_address=None) as c:
        yield c


def test_report_of_a_block_on_a_cluster(client, tmp_path):
    path = tmp_path / "report.html"
    wait_for(lambda: all(m["rss"] for m in client.memory().values()), timeout=30,  # memory comes with heartbeats
             what="a heartbeat from every worker")
    with gf.performance_report(str(path)) as report:
        parts = [gf.delayed(load)(i) for i in range(30)]
        assert gf.delayed(total)(*parts).compute() == sum(range(30))
        # the scheduler samples memory every 0.5 s: the report needs samples taken inside the block
        wait_for(lambda: client.get_memory_history(start=report.start), timeout=30, what="a memory sample")
    page = path.read_text()
    parsed = check(page)
    data = json.loads([body for attrs, body in parsed.scripts if attrs.get("id") == "report-data"][0])
    assert {p["prefix"]: p["count"] for p in data["prefixes"]} == {"load": 30, "total": 1}
    assert data["ntasks"] == 31 and 0 < data["duration"] == report.stop - report.start
    assert all(report.start - 1 <= r["start"] <= r["stop"] <= report.stop for r in data["task_stream"])
    assert set(data["memory"]) <= set(client.scheduler_info()["workers"]) and data["memory"]
    text = "".join(parsed.text)
    assert "load" in text and "total" in text and "31 tasks" in text
    if hasattr(client, "get_worker_logs"):
        assert "load 7 says hello to the report" in text


def test_a_block_that_raises_still_gets_its_report(client, tmp_path):
    path = tmp_path / "failed.html"
    with pytest.raises(ValueError):
        with gf.performance_report(str(path)):
            client.submit(boom, 1).result()
    data = json.loads([b for a, b in check(path.read_text()).scripts if a.get("id") == "report-data"][0])
    assert [(p["prefix"], p["erred"]) for p in data["prefixes"]] == [("boom", 1)]
