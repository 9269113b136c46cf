"""The dashboard in a real headless Chromium (Debian's ``chromium``, driven by playwright).

While a graph of a few hundred tasks runs on a LocalCluster (2 workers), the
page must show task-stream bars, progress reaching 100% for every prefix of
the graph and each worker's memory; the same facts are checked on the JSON
API with plain HTTP.  A screenshot lands in ``test-artifacts/dashboard.png``
at the repository root.  A performance report is then opened offline (every
network request refused) and must draw its task stream.

Skipped, saying why, only when Chromium is not installed (``make test``
installs it where it can: apt-get as root).
"""

import json
import pathlib
import shutil
import time
import urllib.request

import pytest
from playwright import sync_api  # a test dependency: missing it is an error, not a skip

import graphflow as gf
from graphflow.testing.wait import wait_for

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
if CHROMIUM is None:
    pytest.skip("chromium not found: install Debian's 'chromium' package (make test does so when run as root)",
                allow_module_level=True)

ARTIFACTS = pathlib.Path(__file__).resolve().parents[2] / "test-artifacts"
ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-sync"]
PREFIXES = ("nap", "square", "combine")

pytestmark = pytest.mark.slow


def nap(i):
    time.sleep(0.02 if i % 5 == 0 else 0.001)
    return i


def square(x):
    return x * x


def combine(*xs):
    return sum(xs)


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def client():
    with gf.Client(n_workers=2, threads_per_worker=2, memory_limit="1GiB", dashboard_address=":0") as c:
        yield c


def wait_on_page(page, predicate, what, timeout: float = 30.0):
    """`wait_for` on the page; on a timeout keep a screenshot of what it showed instead."""
    return wait_for(predicate, timeout=timeout, interval=0.1, what=what,
                    on_timeout=lambda: page.screenshot(path=str(ARTIFACTS / "dashboard-timeout.png")))


def graph(n=300):
    """300 naps (every fifth sleeps 20 ms) -> 300 squares -> combine in groups of 10 -> one combine."""
    squares = [gf.delayed(square)(gf.delayed(nap)(i)) for i in range(n)]
    groups = [gf.delayed(combine)(*squares[i:i + 10]) for i in range(0, n, 10)]
    return gf.delayed(combine)(*groups), sum(i * i for i in range(n))


def progress_rows(page) -> dict:
    return {r["prefix"]: r for r in page.eval_on_selector_all(
        "#progress-summary tbody tr", "rows => rows.map(r => Object.assign({}, r.dataset))")}


def memory_rows(page) -> dict:
    return {r["worker"]: r for r in page.eval_on_selector_all(
        "#memory-summary tbody tr", "rows => rows.map(r => Object.assign({}, r.dataset))")}


def test_dashboard_shows_a_running_graph(client, browser):
    ARTIFACTS.mkdir(exist_ok=True)
    page = browser.new_page(viewport={"width": 1400, "height": 1100})
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    link = client.dashboard_link
    assert link.startswith("http://127.0.0.1:") and link.endswith("/status")
    page.goto(link)
    wait_on_page(page, lambda: page.get_attribute("#summary", "data-status") == "live", what="first snapshot")

    t0 = time.time()
    total, expected = graph()
    future = client.compute(total, optimize_graph=False)  # keep every task: each prefix must show
    # While it runs: bars appear in the task stream.
    wait_on_page(page, lambda: int(page.get_attribute("#summary", "data-stream-bars")) > 0, what="task-stream bars")
    assert future.result(timeout=60) == expected

    def all_done():
        rows = progress_rows(page)
        return all(p in rows and rows[p]["percent"] == "100" for p in PREFIXES) and rows

    rows = wait_on_page(page, all_done, what="progress at 100% for every prefix")
    assert rows["nap"]["total"] == "300" and rows["square"]["total"] == "300"
    workers = sorted(client.scheduler_info()["workers"])

    def memory_shown():
        mem = memory_rows(page)
        return sorted(mem) == workers and all(int(m["rss"]) > 0 and m["limit"] == str(2 ** 30)
                                              for m in mem.values()) and mem

    wait_on_page(page, memory_shown, what="each worker's memory")
    # The stream's bars come with the page's next task-stream poll, which may land after the memory rows.
    wait_on_page(page, lambda: int(page.get_attribute("#summary", "data-stream-bars")) >= 300,
                 what=lambda: f"at least 300 task-stream bars (the page shows "
                              f"{page.get_attribute('#summary', 'data-stream-bars')})")
    wait_on_page(page, lambda: int(page.get_attribute("#summary", "data-graph-nodes")) >= 600, what="the task graph")
    page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)
    assert errors == []

    # The same facts through the JSON API.
    base = link.rsplit("/", 1)[0]

    def api(path):
        with urllib.request.urlopen(f"{base}/api/v1/{path}", timeout=10) as r:
            return json.loads(r.read())

    progress = {p["prefix"]: p for p in api("tasks")["progress"]}
    assert all(progress[p]["done"] == progress[p]["total"] for p in PREFIXES)
    records = api(f"task_stream?since={t0}")
    assert sum(r["prefix"] == "nap" for r in records) == 300
    assert sorted(api("memory")) == workers
    page.close()


def test_task_stream_is_drawn_on_one_canvas_without_a_chart_library(client, browser):
    """The stream's canvas carries no Chart.js chart, and its pixels show the bars of the tasks that ran."""
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(client.dashboard_link)
    wait_on_page(page, lambda: page.get_attribute("#summary", "data-status") == "live", what="first snapshot")
    total, expected = graph(60)
    assert client.compute(total, optimize_graph=False).result(timeout=60) == expected
    wait_on_page(page, lambda: int(page.get_attribute("#chart-task-stream", "data-bars") or 0) >= 60,
                 what="60 bars on the stream's canvas")
    assert page.evaluate("() => Chart.getChart(document.getElementById('chart-task-stream')) === undefined")
    # Pixels in a bar's colour (nap is the first prefix met: the palette's first colour, #4e79a7).
    coloured = page.evaluate("""() => {
        const c = document.getElementById('chart-task-stream');
        const px = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let n = 0;
        for (let i = 0; i < px.length; i += 4) if (px[i + 3] > 0 && (px[i] !== px[i + 1] || px[i] !== px[i + 2])) n++;
        return n;
    }""")
    assert coloured > 500, coloured
    assert errors == []
    page.close()


def test_a_hidden_tab_stops_polling_and_a_shown_one_starts_again(client, browser):
    page = browser.new_page()
    api_requests = []
    page.on("request", lambda r: "/api/v1/" in r.url and api_requests.append(r.url))
    page.goto(client.dashboard_link)
    wait_on_page(page, lambda: page.get_attribute("#summary", "data-status") == "live", what="first snapshot")
    set_visibility = """state => {
        Object.defineProperty(document, 'visibilityState', {value: state, configurable: true});
        Object.defineProperty(document, 'hidden', {value: state === 'hidden', configurable: true});
        document.dispatchEvent(new Event('visibilitychange'));
    }"""
    page.evaluate(set_visibility, "hidden")
    # The round under way ends (a long poll answers within 2 s), then the loop stops.
    wait_on_page(page, lambda: page.get_attribute("#summary", "data-polling") == "no", what="polling to stop")
    count = len(api_requests)
    quiet_until = time.monotonic() + 3  # the measured quiet: a hidden tab makes no request at all
    while time.monotonic() < quiet_until:
        page.wait_for_timeout(250)
    assert len(api_requests) == count
    page.evaluate(set_visibility, "visible")
    wait_on_page(page, lambda: len(api_requests) > count, what="polling to start again")
    assert page.get_attribute("#summary", "data-polling") == "yes"
    page.close()


def api_paths(page) -> list:
    """The API paths the page asks for from now on (each request's path after /api/v1/, query dropped)."""
    paths = []
    page.on("request", lambda r: "/api/v1/" in r.url and paths.append(r.url.split("/api/v1/")[1].split("?")[0]))
    return paths


def asked(page, paths, path) -> int:
    """How often the page asked for ``path`` so far (a call into the page first: playwright delivers its
    request events while the test waits on a page call, not while it only reads a list)."""
    page.evaluate("0")
    return paths.count(path)


def test_the_graph_is_fetched_only_while_its_panel_is_on_screen(client, browser):
    page = browser.new_page(viewport={"width": 1400, "height": 300})  # the stream panel fills it
    paths = api_paths(page)
    page.goto(client.dashboard_link)
    wait_on_page(page, lambda: page.get_attribute("#summary", "data-graph-in-view") == "no", what="the observer")
    total, expected = graph(60)
    future = client.compute(total, optimize_graph=False)  # held: its tasks stay in the progress table
    assert future.result(timeout=60) == expected
    wait_on_page(page, lambda: progress_rows(page).get("combine", {}).get("percent") == "100",
                 what="progress of the graph that ran")
    assert "graph" not in paths and page.get_attribute("#summary", "data-graph-nodes") == "0"
    page.eval_on_selector("#panel-graph", "el => el.scrollIntoView()")
    wait_on_page(page, lambda: int(page.get_attribute("#summary", "data-graph-nodes")) > 0,
                 what="the graph drawn once its panel shows")
    assert "graph" in paths
    del future
    page.close()


def test_an_idle_cluster_costs_the_page_no_fetch_but_the_summary_and_no_drawing(client, browser):
    """Nothing runs: the page long-polls the summary (which would bring new task records), asks for
    nothing else, and does not redraw the stream's canvas (each drawing costs the browser a frame)."""
    page = browser.new_page(viewport={"width": 1400, "height": 1100})
    paths = api_paths(page)
    page.goto(client.dashboard_link)
    wait_on_page(page, lambda: asked(page, paths, "summary") >= 2, what="the first rounds")
    # While the last bars of the tests before are younger than the window (10 s), "seconds ago" slides.
    wait_on_page(page, lambda: page.get_attribute("#summary", "data-stream-live") == "no",
                 what="the stream's window to stop sliding")
    drawn = page.get_attribute("#chart-task-stream", "data-drawn")
    before = paths.count("task_stream"), paths.count("graph")
    polls = paths.count("summary")
    wait_on_page(page, lambda: asked(page, paths, "summary") >= polls + 4, what="four more summary polls")
    assert (paths.count("task_stream"), paths.count("graph")) == before
    assert "task_stream" not in paths  # records come with the summary
    assert page.get_attribute("#chart-task-stream", "data-drawn") == drawn
    page.close()


def test_report_opens_offline(client, browser, tmp_path):
    path = tmp_path / "report.html"
    with gf.performance_report(str(path)):
        total, expected = graph(60)
        assert client.compute(total, optimize_graph=False).result(timeout=60) == expected
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    errors, requests = [], []
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    def only_the_file(route):
        if route.request.url.startswith("file:"):
            return route.continue_()
        requests.append(route.request.url)
        return route.abort()

    page.route("**/*", only_the_file)
    page.goto(path.as_uri())
    wait_on_page(page, lambda: int(page.get_attribute("#summary", "data-stream-bars")) >= 60, what="report bars")
    assert errors == [] and requests == []
    page.close()
