/* graphflow live dashboard: polls the JSON API and feeds the charts of charts.js.
 *
 * One loop.  A long poll of /api/v1/summary?after=<time of the snapshot it has>&wait=2 (the snapshot
 * without its graph; it answers when the scheduler publishes a newer one, at most every 0.5 s, or 204
 * after 2 s).  The snapshot's counts say what else changed, so nothing is fetched to find out it did not:
 * counts.stream (task runs recorded so far) -- at most every STREAM_S the summary request carries the count
 * the page has seen (&stream_after=), and the answer brings the records that ran since (an even sample when
 * there are many; none, at no cost, when none ran): one request where there were two;
 * counts.graph (raised when the scheduler rebuilt the graph) -- the graph, the big part, is fetched only
 * then, only while its panel is on screen (IntersectionObserver), and at once for a new submission (more
 * tasks), else at most every GRAPH_S or longer when drawing it took long.
 *
 * Each frame the browser produces costs it more than the script (style, layout, rasterizing, compositing),
 * and on a laptop the browser shares the cores with the workers.  So a round draws everything it got in
 * one synchronous pass (one frame), each chart redraws only when what it shows would visibly change, the
 * small ones at most every SMALL_S, text and attributes are written only when they differ, and table rows
 * are reused.  An idle cluster costs no frame at all.  While the tab is hidden (document.visibilityState)
 * the page neither polls nor draws: the loop stops, costing the scheduler no request, and starts again,
 * drawing at once, when the tab shows.  The task stream is drawn on one canvas without a chart library
 * (taskstream.js).  The text summary (#summary, #progress-summary, #memory-summary) is always current and
 * carries data-* attributes that tests and scripts read.
 */
(function () {
  "use strict";

  const WAIT_S = 2;
  const STREAM_S = 1;
  const SMALL_S = 1;
  const GRAPH_S = 0.5;
  const BUDGET = 20;
  const RETRY_MS = 500;
  const WINDOW_S = 10;
  const MAX_RECORDS = 20000;
  const MAX_BARS = 1500; // drawn: the newest; more would not be told apart in 10 s of a few rows
  const SAMPLE = 800; // records per task-stream answer at most (evenly spaced): bounds the cost of busy seconds
  const C = window.GFCharts;
  const summaryEl = document.getElementById("summary");

  const charts = {
    stream: new C.TaskStreamChart(document.getElementById("chart-task-stream"), { xTitle: "seconds ago" }),
    progress: new C.ProgressChart(document.getElementById("chart-progress")),
    memory: new C.MemoryChart(document.getElementById("chart-memory")),
    workers: new C.WorkersChart(document.getElementById("chart-workers")),
    graph: new C.GraphChart(document.getElementById("chart-graph")),
  };

  let snapshot = null;
  let snapshotAt = 0; // performance.now() when it arrived
  let records = [];
  const seen = new Set();
  let maxStop = null;
  let failures = 0;
  let graph = { nodes: [], edges: [], truncated: false };
  let graphAt = -Infinity; // performance.now() of the last graph fetch
  let graphWait = GRAPH_S * 1000; // ms until the next one (longer when drawing it took long)
  let graphTasks = 0; // the scheduler's task count then
  let graphVersion = null; // counts.graph of the graph we have (null: none yet, or fetch again)
  let graphInView = !("IntersectionObserver" in window); // set by the observer below
  let graphDirty = false; // fetched, not drawn yet
  let streamWait = STREAM_S * 1000;
  let streamAt = -Infinity;
  let streamAdded = null; // counts.stream of the snapshot that brought the last records
  let streamDrawn = null; // [window end, record count] of the last drawing: redraw only when either moved
  let streamDrawnAt = -Infinity;
  let snapshotDrawn = null; // what the tables last showed
  let smallDrawn = [null, null, null]; // what the small charts last drew (chartSignatures)
  let smallAt = -Infinity;

  function recordId(r) {
    return r.worker + "|" + r.thread + "|" + r.key + "|" + r.start;
  }

  let lastNow = 0;

  /* The scheduler's clock, never going back (each snapshot arrives a little after its time: taken alone,
   * the estimate would step back, and the stream's window would slide back and forth at its end). */
  function now() {
    const t = !snapshot || !snapshot.time ? Date.now() / 1000 : snapshot.time + (performance.now() - snapshotAt) / 1000;
    lastNow = Math.max(lastNow, t);
    return lastNow;
  }

  /* Write only what differs: an unchanged write still costs the browser a style pass and a frame. */
  function setData(el, values) {
    for (const k in values) if (el.dataset[k] !== values[k]) el.dataset[k] = values[k];
  }

  function setText(el, text) {
    if (el.textContent !== text) el.textContent = text;
  }

  async function fetchJson(url) {
    const response = await fetch(url, { cache: "no-store", credentials: "same-origin" });
    if (response.status === 204) return null;
    if (!response.ok) throw new Error(url + ": HTTP " + response.status);
    return response.json();
  }

  /* The summary, and with it (at most every streamWait) the task records that ran since the last ones. */
  async function pollSnapshot() {
    const after = snapshot ? snapshot.time : -1;
    const withStream = performance.now() - streamAt >= streamWait;
    const fresh = await fetchJson("/api/v1/summary?after=" + after + "&wait=" + (snapshot ? WAIT_S : 0) +
      (withStream ? "&stream_after=" + (streamAdded === null ? -1 : streamAdded) + "&sample=" + SAMPLE : ""));
    if (fresh) {
      snapshot = fresh;
      snapshotAt = performance.now();
      if (fresh.stream) {
        streamAt = performance.now();
        streamAdded = fresh.counts && fresh.counts.stream !== undefined ? fresh.counts.stream : null;
        takeRecords(fresh.stream);
      }
    }
    return fresh;
  }

  function counts() {
    return (snapshot && snapshot.counts) || {};
  }

  /* The graph when the scheduler rebuilt it (counts.graph), its panel is on screen, and either tasks were
   * submitted or graphWait passed since the last fetch. */
  async function pollGraph() {
    if (!graphInView) return false;
    const c = counts();
    const tasks = c.tasks || 0;
    const changed = c.graph === undefined || c.graph !== graphVersion;
    if (!changed || (tasks <= graphTasks && performance.now() - graphAt < graphWait)) return false;
    graphAt = performance.now();
    graphTasks = tasks;
    graphVersion = c.graph;
    graph = (await fetchJson("/api/v1/graph")) || graph;
    graphDirty = true;
    return true;
  }

  /* Records of an answer, less those the page has; then only the last window (of activity: an idle
   * cluster keeps showing what it did last). */
  function takeRecords(fresh) {
    for (const r of fresh) {
      const id = recordId(r);
      if (seen.has(id)) continue;
      seen.add(id);
      records.push(r);
      if (maxStop === null || r.stop > maxStop) maxStop = r.stop;
    }
    const end = Math.max(now(), 0);
    const horizon = Math.min(end, maxStop === null ? end : maxStop + 1) - WINDOW_S;
    if (records.length && (records[0].stop < horizon - WINDOW_S || records.length > MAX_RECORDS)) {
      records = records.filter((r) => r.stop >= horizon).slice(-MAX_RECORDS);
      seen.clear();
      for (const r of records) seen.add(recordId(r));
    }
  }

  /* The window ends now while bars are in it ("seconds ago" slides), else at the last bar: an idle
   * cluster's stream is drawn once and left alone. */
  function renderStream() {
    const t = now();
    const end = maxStop === null ? null : maxStop < t - WINDOW_S ? maxStop + 1 : t;
    if (streamDrawn && (end === null || streamDrawn[0] === end) && streamDrawn[1] === records.length) return;
    if (streamDrawn && performance.now() - streamDrawnAt < streamWait && streamDrawn[1] === records.length) return;
    const t0 = performance.now();
    streamDrawn = [end, records.length];
    streamDrawnAt = t0;
    const last = end === null ? t : end;
    const shown = records.length > MAX_BARS ? records.slice(-MAX_BARS) : records;
    const bars = charts.stream.update(shown, last - WINDOW_S, last);
    setData(summaryEl, { streamBars: String(bars), streamLive: end === t ? "yes" : "no" }); // no: drawn as it stays
    streamWait = Math.max(STREAM_S * 1000, BUDGET * (performance.now() - t0));
  }

  function renderGraph() {
    graphDirty = false;
    const t0 = performance.now();
    const nodes = charts.graph.update(graph);
    // Big graphs cost more than their script (rasterizing thousands of points) and cost the scheduler
    // process an encoding each time: at most one drawing per 0.4 ms per node (2 s for 5,000 nodes).
    graphWait = Math.max(GRAPH_S * 1000, BUDGET * (performance.now() - t0), 0.4 * nodes);
    setText(document.getElementById("graph-note"), nodes + " tasks" +
      (graph.truncated ? " (the newest; the graph is larger than the dashboard draws)" : "") +
      (charts.graph.grouped ? ", one point per prefix and depth" : ""));
    setData(summaryEl, { graphNodes: String(nodes) });
  }

  function renderSnapshot(s) {
    const workers = (s.workers || []).slice().sort((a, b) => (a.address < b.address ? -1 : 1));
    const progress = (s.progress || []).slice().sort((a, b) => (a.prefix < b.prefix ? -1 : 1));
    // Redrawing a canvas costs the browser far more than its script (rasterizing, compositing): the small
    // charts and the tables redraw at most every SMALL_S, and only when something visibly moved.
    if (performance.now() - smallAt >= SMALL_S * 1000) {
      const tables = JSON.stringify([workers, progress]);
      if (tables !== snapshotDrawn) { // an idle cluster publishes the same numbers again and again
        snapshotDrawn = tables;
        smallAt = performance.now();
        renderProgressTable(progress);
        renderMemoryTable(workers);
      }
      const shown = chartSignatures(workers, progress);
      ["progress", "memory", "workers"].forEach((name, i) => {
        if (shown[i] === smallDrawn[i]) return;
        smallDrawn[i] = shown[i];
        smallAt = performance.now();
        charts[name].update(name === "progress" ? progress : workers);
      });
    }
    const c = s.counts || {};
    setData(summaryEl, {
      snapshotTime: String(s.time), workers: String(workers.length), tasks: String(c.tasks || 0), status: "live",
    });
  }

  /* What each small chart would show, rounded to what the eye can tell apart (half a percent of its axis). */
  function chartSignatures(workers, progress) {
    const q = (v, scale) => Math.round((200 * (v || 0)) / Math.max(1, scale));
    const progressSig = progress.map((p) => {
      const t = p.total || 1;
      return [p.prefix, q(p.done, t), q(p.processing, t), q(p.erred, t)].join(":");
    }).join("|");
    const top = Math.max(1, ...workers.map((w) => {
      const m = w.memory || {};
      return Math.max(m.limit || 0, (m.managed || 0) + (m.shared || 0) + (m.unmanaged || 0) + (m.spilled || 0));
    }));
    const memorySig = workers.map((w) => {
      const m = w.memory || {};
      return [w.address, q(m.managed, top), q(m.shared, top), q(m.unmanaged, top), q(m.spilled, top),
        q(m.limit, top)].join(":");
    }).join("|");
    const workersSig = workers.map((w) => [w.address, w.paused, q(w.cpu, 100), w.processing].join(":")).join("|");
    return [progressSig, memorySig, workersSig];
  }

  /* Fill tbody with one row per item, reusing the rows it has: rows and cells are created only when the
   * table grows, and a cell's text is written only when it changed. */
  function fillTable(selector, items, dataOf, cellsOf) {
    const body = document.querySelector(selector + " tbody");
    while (body.rows.length > items.length) body.deleteRow(-1);
    items.forEach((item, i) => {
      const cells = cellsOf(item);
      const row = body.rows[i] || body.insertRow(-1);
      while (row.cells.length < cells.length) row.insertCell(-1);
      setData(row, dataOf(item));
      cells.forEach((text, j) => setText(row.cells[j], String(text)));
    });
  }

  function renderProgressTable(progress) {
    const parts = new Map(progress.map((p) => [p, C.progressParts(p)]));
    const percent = (p) => (parts.get(p).total ? Math.floor((100 * parts.get(p).done) / parts.get(p).total) : 0);
    fillTable("#progress-summary", progress, (p) => {
      const q = parts.get(p);
      return { prefix: p.prefix, total: String(q.total), done: String(q.done), processing: String(q.processing),
        waiting: String(q.waiting), erred: String(q.erred), percent: String(percent(p)) };
    }, (p) => {
      const q = parts.get(p);
      return [p.prefix, q.done, q.processing, q.waiting, q.erred, q.total, percent(p) + "%"];
    });
  }

  function renderMemoryTable(workers) {
    fillTable("#memory-summary", workers, (w) => {
      const m = w.memory || {};
      return { worker: w.address, managed: String(m.managed || 0), spilled: String(m.spilled || 0),
        unmanaged: String(m.unmanaged || 0), rss: String(m.rss || 0), limit: String(m.limit === null ? "" : m.limit),
        cpu: String(w.cpu || 0), processing: String(w.processing || 0) };
    }, (w) => {
      const m = w.memory || {};
      return [C.shortWorker(w.address), C.formatBytes(m.managed || 0), C.formatBytes(m.spilled || 0),
        C.formatBytes(m.unmanaged || 0), m.limit ? C.formatBytes(m.limit) : "none"];
    });
  }

  let textAt = -Infinity;
  let textTasks = 0;

  /* The line of text: a new text is a new frame, so while tasks run (their count changes with every
   * snapshot) it follows at most every SMALL_S, with the charts -- at once for a submission (more tasks),
   * a change of workers or an error. */
  function renderSummaryText() {
    const d = summaryEl.dataset;
    const tasks = Number(d.tasks);
    const text = document.getElementById("summary-text");
    const line = d.workers + " workers \u00b7 " + d.tasks + " tasks \u00b7 " + d.streamBars +
      " bars in the task stream" + (failures ? " \u00b7 scheduler unreachable, retrying" : "");
    const urgent = failures || tasks > textTasks || !text.textContent.startsWith(d.workers + " workers");
    if (line !== text.textContent && (urgent || performance.now() - textAt >= SMALL_S * 1000)) {
      text.textContent = line;
      textAt = performance.now();
      textTasks = tasks;
    }
    const age = snapshot && snapshot.time ? now() - snapshot.time : null;
    const stale = failures || (age !== null && age > 5) ? "stale" : "";
    if (text.className !== stale) text.className = stale;
  }

  /* Everything a round got, drawn in one synchronous pass: the browser makes one frame of it. */
  function render(fresh) {
    renderStream(); // first: it reads its box's size, which after the writes below would force a layout
    if (fresh) renderSnapshot(fresh);
    if (graphDirty && graphInView) renderGraph();
    renderSummaryText();
  }

  let running = false; // a tick is scheduled or under way; false while the tab is hidden

  function visible() {
    return document.visibilityState === "visible";
  }

  async function tick() {
    if (!visible()) {
      running = false; // the visibilitychange listener starts the loop again
      setData(summaryEl, { polling: "no" });
      return;
    }
    running = true;
    setData(summaryEl, { polling: "yes" });
    let fresh = null;
    try {
      fresh = await pollSnapshot();
      await pollGraph();
      failures = 0;
    } catch (err) {
      failures++;
      setData(summaryEl, { status: "error: " + err.message });
    }
    if (visible()) render(fresh);
    // A long poll that answered at once is followed at once; a quick 204 (no wait: the first round,
    // or a scheduler without long polls) or an error waits before the next round.  Back off while
    // the scheduler is gone (it may come back at the same address).
    const delay = failures ? Math.min(5000, RETRY_MS * 2 ** failures) : fresh ? 0 : RETRY_MS / 2;
    setTimeout(tick, delay);
  }

  function redrawAll() {
    snapshotDrawn = streamDrawn = null;
    smallDrawn = [null, null, null];
    smallAt = -Infinity;
    graphDirty = true;
    charts.graph.shown = null;
    render(snapshot);
  }

  if ("IntersectionObserver" in window) {
    // The graph panel off screen: its graph is neither fetched nor drawn; scrolled to, it is at once.
    new IntersectionObserver((entries) => {
      const shown = entries[entries.length - 1].isIntersecting;
      setData(summaryEl, { graphInView: shown ? "yes" : "no" });
      if (shown === graphInView) return;
      graphInView = shown;
      if (shown && snapshot && visible()) {
        graphVersion = null;
        graphAt = -Infinity;
        pollGraph().then(() => render(null)).catch(() => {});
      }
    }).observe(document.getElementById("panel-graph"));
  }

  document.addEventListener("visibilitychange", () => {
    if (!visible()) return;
    if (snapshot) redrawAll();
    if (!running) {
      streamAt = -Infinity; // the stream missed the hidden time: ask for it with the first round
      tick();
    }
  });
  tick();
})();
