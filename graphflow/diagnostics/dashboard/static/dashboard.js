/* graphflow live dashboard: polls the JSON API and feeds the charts of charts.js.
 *
 * One loop.  A long poll of /api/v1/summary?after=<time of the snapshot it has>&wait=2 (the snapshot
 * without its graph; it answers when the scheduler publishes a newer one, at most every 0.5 s, or 204
 * after 2 s).  At most every STREAM_S, /api/v1/task_stream for the newest records (an even sample when
 * there are many; records it already has are dropped).  The graph, the big part, when the scheduler holds
 * more tasks than at the last fetch (a new submission shows at once), else at most every GRAPH_S.
 *
 * Drawing a canvas costs the browser far more than the script that fills it (rasterizing, compositing),
 * and on a laptop the browser shares the cores with the workers.  So each chart redraws only when what it
 * shows would visibly change, the small ones at most every SMALL_S, and a chart that took long to draw
 * waits BUDGET times that long (big graphs: a millisecond per node) before the next drawing.  While the
 * tab is hidden (document.visibilityState) the page neither polls nor draws: the loop stops, costing the
 * scheduler no request, and starts again, drawing at once, when the tab shows.  The task stream is drawn
 * on one canvas without a chart library (taskstream.js).  The text summary (#summary, #progress-summary, #memory-summary) is
 * always current and carries data-* attributes that tests and scripts read.
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
  const MIN_COUNT = 500;
  const MAX_RECORDS = 20000;
  const MAX_BARS = 1500; // drawn: the newest; more would not be told apart in 10 s of a few rows
  const SAMPLE = 800; // records per task-stream answer at most (evenly spaced): bounds the cost of busy seconds
  const C = window.GFCharts;

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
  let streamWait = STREAM_S * 1000;
  let graphTasks = 0; // the scheduler's task count then
  let streamAt = -Infinity;
  let streamCount = 2000; // records asked for per poll (see pollStream)
  let streamDrawn = null; // [window end, record count] of the last drawing: redraw only when either moved
  let snapshotDrawn = null; // what the tables last showed
  let smallDrawn = [null, null, null]; // what the small charts last drew (chartSignatures)
  let smallAt = -Infinity;

  function recordId(r) {
    return r.worker + "|" + r.thread + "|" + r.key + "|" + r.start;
  }

  function now() {
    if (!snapshot || !snapshot.time) return Date.now() / 1000;
    return snapshot.time + (performance.now() - snapshotAt) / 1000;
  }

  async function fetchJson(url) {
    const response = await fetch(url, { cache: "no-store", credentials: "same-origin" });
    if (response.status === 204) return null;
    if (!response.ok) throw new Error(url + ": HTTP " + response.status);
    return response.json();
  }

  async function pollSnapshot() {
    const after = snapshot ? snapshot.time : -1;
    const fresh = await fetchJson("/api/v1/summary?after=" + after + "&wait=" + (snapshot ? WAIT_S : 0));
    if (fresh) {
      snapshot = fresh;
      snapshotAt = performance.now();
    }
    return fresh;
  }

  async function pollGraph() {
    const tasks = (snapshot && snapshot.counts && snapshot.counts.tasks) || 0;
    if (tasks <= graphTasks && performance.now() - graphAt < graphWait) return false;
    graphAt = performance.now();
    graphTasks = tasks;
    graph = (await fetchJson("/api/v1/graph")) || graph;
    return true;
  }

  /* The newest streamCount records (a sample of SAMPLE of them).  Asking for the newest N rather than
   * "since T" lets the scheduler slice its ring instead of searching it; N follows the task rate: when
   * even the oldest record of an answer is new, some were missed between two polls, so N doubles; when
   * the answers reach far back into what the page has, N halves. */
  async function pollStream() {
    const before = maxStop;
    const fresh = (await fetchJson("/api/v1/task_stream?count=" + streamCount + "&sample=" + SAMPLE)) || [];
    const oldestIsNew = fresh.length > 0 && !seen.has(recordId(fresh[0]));
    for (const r of fresh) {
      const id = recordId(r);
      if (seen.has(id)) continue;
      seen.add(id);
      records.push(r);
      if (maxStop === null || r.stop > maxStop) maxStop = r.stop;
    }
    if (before !== null && fresh.length) {
      if (oldestIsNew && fresh[0].stop > before) streamCount = Math.min(MAX_RECORDS, streamCount * 2);
      else if (fresh[0].stop < before - 2 * WINDOW_S) streamCount = Math.max(MIN_COUNT, streamCount / 2);
    }
    // Keep the last window (of activity: an idle cluster keeps showing what it did last).
    const end = Math.max(now(), 0);
    const horizon = Math.min(end, maxStop === null ? end : maxStop + 1) - WINDOW_S;
    if (records.length && (records[0].stop < horizon - WINDOW_S || records.length > MAX_RECORDS)) {
      records = records.filter((r) => r.stop >= horizon).slice(-MAX_RECORDS);
      seen.clear();
      for (const r of records) seen.add(recordId(r));
    }
  }

  function renderStream() {
    const t = now();
    const end = maxStop !== null && maxStop < t - WINDOW_S ? maxStop + 1 : t;
    if (streamDrawn && streamDrawn[0] === end && streamDrawn[1] === records.length) return; // idle: as drawn
    streamDrawn = [end, records.length];
    const shown = records.length > MAX_BARS ? records.slice(-MAX_BARS) : records;
    const bars = charts.stream.update(shown, end - WINDOW_S, end);
    document.getElementById("summary").dataset.streamBars = String(bars);
  }

  function renderGraph() {
    const t0 = performance.now();
    const nodes = charts.graph.update(graph);
    // Big graphs cost more than their script (rasterizing thousands of points) and cost the scheduler
    // process an encoding each time: at most one drawing per 0.4 ms per node (2 s for 5,000 nodes).
    graphWait = Math.max(GRAPH_S * 1000, BUDGET * (performance.now() - t0), 0.4 * nodes);
    document.getElementById("graph-note").textContent = nodes + " tasks" +
      (graph.truncated ? " (the newest; the graph is larger than the dashboard draws)" : "") +
      (charts.graph.grouped ? ", one point per prefix and depth" : "");
    document.getElementById("summary").dataset.graphNodes = String(nodes);
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
    const summary = document.getElementById("summary");
    const counts = s.counts || {};
    Object.assign(summary.dataset, {
      snapshotTime: String(s.time), workers: String(workers.length), tasks: String(counts.tasks || 0),
      status: "live",
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

  function cell(row, text) {
    const td = document.createElement("td");
    td.textContent = text;
    row.appendChild(td);
  }

  function renderProgressTable(progress) {
    const body = document.querySelector("#progress-summary tbody");
    body.replaceChildren();
    for (const p of progress) {
      const parts = C.progressParts(p);
      const percent = parts.total ? Math.floor((100 * parts.done) / parts.total) : 0;
      const row = document.createElement("tr");
      Object.assign(row.dataset, {
        prefix: p.prefix, total: String(parts.total), done: String(parts.done), processing: String(parts.processing),
        waiting: String(parts.waiting), erred: String(parts.erred), percent: String(percent),
      });
      [p.prefix, parts.done, parts.processing, parts.waiting, parts.erred, parts.total, percent + "%"].forEach(
        (v) => cell(row, String(v)));
      body.appendChild(row);
    }
  }

  function renderMemoryTable(workers) {
    const body = document.querySelector("#memory-summary tbody");
    body.replaceChildren();
    for (const w of workers) {
      const m = w.memory || {};
      const row = document.createElement("tr");
      Object.assign(row.dataset, {
        worker: w.address, managed: String(m.managed || 0), spilled: String(m.spilled || 0),
        unmanaged: String(m.unmanaged || 0), rss: String(m.rss || 0), limit: String(m.limit === null ? "" : m.limit),
        cpu: String(w.cpu || 0), processing: String(w.processing || 0),
      });
      [C.shortWorker(w.address), C.formatBytes(m.managed || 0), C.formatBytes(m.spilled || 0),
        C.formatBytes(m.unmanaged || 0), m.limit ? C.formatBytes(m.limit) : "none"].forEach((v) => cell(row, v));
      body.appendChild(row);
    }
  }

  function renderSummaryText() {
    const d = document.getElementById("summary").dataset;
    const age = snapshot && snapshot.time ? now() - snapshot.time : null;
    const text = document.getElementById("summary-text");
    text.textContent = d.workers + " workers \u00b7 " + d.tasks + " tasks \u00b7 " + d.streamBars +
      " bars in the task stream" + (failures ? " \u00b7 scheduler unreachable, retrying" : "");
    text.className = failures || (age !== null && age > 5) ? "stale" : "";
  }

  let running = false; // a tick is scheduled or under way; false while the tab is hidden

  function visible() {
    return document.visibilityState === "visible";
  }

  async function tick() {
    const summary = document.getElementById("summary");
    if (!visible()) {
      running = false; // the visibilitychange listener starts the loop again
      summary.dataset.polling = "no";
      return;
    }
    running = true;
    summary.dataset.polling = "yes";
    let fresh = null;
    try {
      fresh = await pollSnapshot();
      if (fresh && visible()) renderSnapshot(fresh);
      if (visible() && (await pollGraph())) renderGraph();
      if (performance.now() - streamAt >= streamWait) {
        streamAt = performance.now();
        await pollStream();
        const t0 = performance.now();
        if (visible()) renderStream();
        streamWait = Math.max(STREAM_S * 1000, BUDGET * (performance.now() - t0));
      }
      failures = 0;
    } catch (err) {
      failures++;
      document.getElementById("summary").dataset.status = "error: " + err.message;
    }
    renderSummaryText();
    // A long poll that answered at once is followed at once; a quick 204 (no wait: the first round,
    // or a scheduler without long polls) or an error waits before the next round.  Back off while
    // the scheduler is gone (it may come back at the same address).
    const delay = failures ? Math.min(5000, RETRY_MS * 2 ** failures) : fresh ? 0 : RETRY_MS / 2;
    setTimeout(tick, delay);
  }

  document.addEventListener("visibilitychange", () => {
    if (!visible()) return;
    if (snapshot) {
      snapshotDrawn = streamDrawn = null;
      smallDrawn = [null, null, null];
      smallAt = -Infinity;
      renderSnapshot(snapshot);
      renderGraph();
      renderStream();
    }
    if (!running) {
      streamAt = -Infinity; // the stream missed the hidden time: fetch it with the first round
      tick();
    }
  });
  tick();
})();
