/* graphflow charts: Chart.js configurations shared by the live dashboard and the performance report.
 *
 * Each chart is a small object around one Chart.js instance: build it on a <canvas>, then call
 * update(data) as often as data arrives (no animation, so an update is one redraw).  Nothing here
 * fetches anything: the dashboard (dashboard.js) polls the JSON API, the report (report.js) reads
 * JSON embedded in its HTML file, and both hand the data to these charts.
 *
 * Exposed as window.GFCharts = {colorOf, stateColor, formatBytes, shortWorker, streamRows,
 *   ProgressChart, MemoryChart, WorkersChart, GraphChart, PrefixTimeChart, MemoryHistoryChart,
 *   layoutGraph}; the task stream, drawn without Chart.js, is taskstream.js's (loaded after this file).
 */
(function (global) {
  "use strict";

  const STATE_COLORS = {
    waiting: "#b0b7c3", released: "#d5d9e0", queued: "#b0b7c3", no_worker: "#e8a33d",
    processing: "#3b7dd8", executing: "#3b7dd8", memory: "#3aa876", done: "#3aa876",
    erred: "#d64545", forgotten: "#eeeeee",
  };

  /* Distinct colours for the first prefixes a page meets (in that order), then hues from a hash. */
  const PALETTE = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#ff9da7",
    "#9c755f", "#86bcb6", "#d37295", "#8cd17d", "#a0cbe8", "#ffbe7d", "#499894", "#f1ce63", "#d4a6c8",
    "#bab0ac", "#79706e", "#b6992d"];
  const assigned = new Map();

  function colorOf(prefix) {
    let color = assigned.get(prefix);
    if (color) return color;
    if (assigned.size < PALETTE.length) {
      color = PALETTE[assigned.size];
    } else {
      let h = 2166136261;
      for (let i = 0; i < prefix.length; i++) {
        h ^= prefix.charCodeAt(i);
        h = Math.imul(h, 16777619) >>> 0;
      }
      color = "hsl(" + (h % 360) + ", 60%, " + (40 + ((h >>> 9) % 3) * 10) + "%)";
    }
    assigned.set(prefix, color);
    return color;
  }

  function stateColor(state) {
    return STATE_COLORS[state] || "#888888";
  }

  function formatBytes(n) {
    if (n === null || n === undefined) return "-";
    const units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let i = 0;
    let v = Math.abs(n);
    while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
    return (n < 0 ? "-" : "") + (i === 0 ? v.toFixed(0) : v.toFixed(1)) + " " + units[i];
  }

  /* "tcp://127.0.0.1:40231" -> "127.0.0.1:40231": the row labels stay short. */
  function shortWorker(address) {
    return String(address).replace(/^[a-z]+:\/\//, "");
  }

  const BASE = {
    animation: false,
    responsive: true,
    maintainAspectRatio: false,
  };

  function merge(a, b) {
    return Object.assign({}, a, b);
  }

  /* The rows of a task stream: one per (worker, thread), sorted, as labels. */
  function streamRows(records) {
    const rows = new Set();
    for (const r of records) rows.add(shortWorker(r.worker) + " #" + r.thread);
    return Array.from(rows).sort();
  }

  /* Per prefix, the share of its tasks done / processing / waiting / erred (stacked, 0-100 %). */
  class ProgressChart {
    constructor(canvas) {
      const part = (label, color) => ({ label: label, data: [], backgroundColor: color, counts: [] });
      this.chart = new global.Chart(canvas, {
        type: "bar",
        data: {
          labels: [],
          datasets: [part("done", stateColor("memory")), part("processing", stateColor("processing")),
            part("waiting", stateColor("waiting")), part("erred", stateColor("erred"))],
        },
        options: merge(BASE, {
          indexAxis: "y",
          scales: {
            x: { stacked: true, min: 0, max: 100, title: { display: true, text: "% of the prefix's tasks" } },
            y: { stacked: true, ticks: { autoSkip: false, font: { size: 10 } } },
          },
          plugins: {
            legend: { position: "bottom", labels: { boxWidth: 10, font: { size: 10 } } },
            tooltip: {
              callbacks: {
                label: (ctx) => ctx.dataset.label + ": " + ctx.dataset.counts[ctx.dataIndex] + " tasks",
              },
            },
          },
        }),
      });
    }

    /* rows: [{prefix, total, done, processing, erred}]; waiting is the rest. */
    update(rows) {
      const sets = this.chart.data.datasets;
      this.chart.data.labels = rows.map((r) => r.prefix);
      const parts = rows.map(progressParts);
      ["done", "processing", "waiting", "erred"].forEach((name, i) => {
        sets[i].counts = parts.map((p) => p[name]);
        sets[i].data = parts.map((p) => (p.total ? (100 * p[name]) / p.total : 0));
      });
      this.chart.update("none");
    }
  }

  function progressParts(r) {
    const total = r.total || 0;
    const done = r.done || 0;
    const processing = r.processing || 0;
    const erred = r.erred || 0;
    return { total: total, done: done, processing: processing, erred: erred,
      waiting: Math.max(0, total - done - processing - erred) };
  }

  /* Each worker's memory: managed | shared | unmanaged, then the room left below its limit (a dashed,
   * unfilled segment whose end marks the limit), then what it spilled to disk (beyond the limit). */
  class MemoryChart {
    constructor(canvas) {
      const part = (label, color, extra) => Object.assign({ label: label, data: [], backgroundColor: color }, extra);
      this.chart = new global.Chart(canvas, {
        type: "bar",
        data: {
          labels: [],
          datasets: [
            part("managed", "#3b7dd8"), part("shared", "#7fb0ee"), part("unmanaged", "#9aa3b0"),
            part("free below limit", "rgba(0,0,0,0)", { borderColor: "#d64545", borderWidth: 1, borderDash: [4, 3] }),
            part("spilled (disk)", "#e8a33d"),
          ],
        },
        options: merge(BASE, {
          indexAxis: "y",
          scales: {
            x: { stacked: true, min: 0, ticks: { callback: (v) => formatBytes(v) } },
            y: { stacked: true, ticks: { autoSkip: false, font: { size: 10 } } },
          },
          plugins: {
            legend: { position: "bottom", labels: { boxWidth: 10, font: { size: 10 } } },
            tooltip: { callbacks: { label: (ctx) => ctx.dataset.label + ": " + formatBytes(ctx.raw) } },
          },
        }),
      });
    }

    /* workers: [{address, memory: {managed, spilled, shared, unmanaged, rss, limit}}] */
    update(workers) {
      const sets = this.chart.data.datasets;
      const mem = workers.map((w) => w.memory || {});
      this.chart.data.labels = workers.map((w) => shortWorker(w.address));
      sets[0].data = mem.map((m) => m.managed || 0);
      sets[1].data = mem.map((m) => m.shared || 0);
      sets[2].data = mem.map((m) => m.unmanaged || 0);
      sets[3].data = mem.map((m) => (m.limit ? Math.max(0, m.limit - (m.managed || 0) - (m.shared || 0) -
        (m.unmanaged || 0)) : 0));
      sets[4].data = mem.map((m) => m.spilled || 0);
      this.chart.update("none");
    }
  }

  /* CPU (% of one core, top axis) and tasks processing (bottom axis) per worker. */
  class WorkersChart {
    constructor(canvas) {
      this.chart = new global.Chart(canvas, {
        type: "bar",
        data: {
          labels: [],
          datasets: [
            { label: "CPU %", data: [], backgroundColor: "#8e6bd8", xAxisID: "cpu" },
            { label: "tasks processing", data: [], backgroundColor: "#3b7dd8", xAxisID: "tasks" },
          ],
        },
        options: merge(BASE, {
          indexAxis: "y",
          scales: {
            cpu: { type: "linear", position: "top", min: 0, suggestedMax: 100,
              title: { display: true, text: "CPU %" } },
            tasks: { type: "linear", position: "bottom", min: 0, suggestedMax: 4, grid: { drawOnChartArea: false },
              title: { display: true, text: "tasks processing" } },
            y: { ticks: { autoSkip: false, font: { size: 10 } } },
          },
          plugins: { legend: { position: "bottom", labels: { boxWidth: 10, font: { size: 10 } } } },
        }),
      });
    }

    update(workers) {
      this.chart.data.labels = workers.map((w) => shortWorker(w.address) + (w.paused ? " (paused)" : ""));
      this.chart.data.datasets[0].data = workers.map((w) => w.cpu || 0);
      this.chart.data.datasets[1].data = workers.map((w) => w.processing || 0);
      this.chart.update("none");
    }
  }

  /* Layered layout of a DAG: x = depth (longest path from a source), y = place within its layer, layers
   * ordered by the mean place of each node's dependencies (one barycentre sweep: fewer crossings).
   * nodes: [...], edges: [[dependency, dependent], ...] (indices).  Returns {x: [...], y: [...]}. */
  function layoutGraph(n, edges) {
    const indeg = new Int32Array(n);
    const out = Array.from({ length: n }, () => []);
    const deps = Array.from({ length: n }, () => []);
    for (const [a, b] of edges) {
      if (a < 0 || b < 0 || a >= n || b >= n) continue;
      out[a].push(b);
      deps[b].push(a);
      indeg[b]++;
    }
    const depth = new Int32Array(n);
    const queue = [];
    for (let i = 0; i < n; i++) if (indeg[i] === 0) queue.push(i);
    for (let head = 0; head < queue.length; head++) {
      const i = queue[head];
      for (const j of out[i]) {
        if (depth[i] + 1 > depth[j]) depth[j] = depth[i] + 1;
        if (--indeg[j] === 0) queue.push(j);
      }
    }
    const layers = [];
    for (let i = 0; i < n; i++) (layers[depth[i]] = layers[depth[i]] || []).push(i);
    const y = new Float64Array(n);
    for (const layer of layers) {
      if (!layer) continue;
      const key = (i) => (deps[i].length ? deps[i].reduce((s, d) => s + y[d], 0) / deps[i].length : i);
      const scored = layer.map((i) => [key(i), i]).sort((p, q) => p[0] - q[0]);
      const mid = (scored.length - 1) / 2;
      scored.forEach((p, place) => { y[p[1]] = place - mid; });
    }
    return { x: Array.from(depth), y: Array.from(y) };
  }

  const MAX_EDGES = 1200;
  const NODE_LIMIT = 3000;
  // Which state colours a group of tasks: the first of these it has (what needs attention first).
  const GROUP_STATES = ["erred", "processing", "executing", "no_worker", "queued", "waiting", "memory", "released",
    "forgotten"];

  /* The current computation's task graph: nodes coloured by state, edges as grey segments (at most
   * MAX_EDGES of them, an even sample, for bigger graphs: past a couple of thousand they blur into one
   * grey mass anyway, and they cost most of the drawing).  Past NODE_LIMIT tasks one point stands for
   * all the tasks of one prefix at one depth (sized by their number, coloured by their most pressing
   * state, the counts in its tooltip): thousands of dots are a blur, and costly to draw. */
  class GraphChart {
    constructor(canvas) {
      this.signature = null;
      this.layout = null;
      this.chart = new global.Chart(canvas, {
        type: "scatter",
        data: { datasets: [] },
        options: merge(BASE, {
          parsing: false, // points are {x, y} already: skips a pass over thousands of them
          scales: { x: { type: "linear", display: false }, y: { type: "linear", display: false } },
          plugins: {
            legend: { position: "bottom", labels: { boxWidth: 10, font: { size: 10 } } },
            tooltip: {
              filter: (item) => item.raw && item.raw.key !== undefined,
              callbacks: { label: (ctx) => ctx.raw.key + " (" + ctx.raw.state + ")" },
            },
          },
        }),
      });
    }

    /* graph: {nodes: [{key, prefix, state}], edges: [[i, j]], truncated} */
    update(graph) {
      const nodes = graph.nodes || [];
      const edges = graph.edges || [];
      const signature = nodes.length + "/" + edges.length + "/" + (nodes.length ? nodes[0].key + "/" +
        nodes[nodes.length - 1].key : "");
      this.grouped = nodes.length > NODE_LIMIT;
      if (this.grouped) return this.updateGrouped(nodes, edges, signature);
      if (signature !== this.signature) {
        this.signature = signature;
        this.layout = layoutGraph(nodes.length, edges);
        const lines = [];
        const step = Math.max(1, edges.length / MAX_EDGES);
        for (let k = 0; k < edges.length; k += step) {
          const [a, b] = edges[Math.floor(k)];
          if (a >= nodes.length || b >= nodes.length) continue;
          lines.push({ x: this.layout.x[a], y: this.layout.y[a] }, { x: this.layout.x[b], y: this.layout.y[b] },
            { x: null, y: null });
        }
        this.edges = lines;
      }
      const lay = this.layout;
      const radius = nodes.length > 2000 ? 1.5 : nodes.length > 300 ? 2.5 : 4;
      const byState = new Map();
      nodes.forEach((node, i) => {
        let data = byState.get(node.state);
        if (!data) byState.set(node.state, (data = []));
        data.push({ x: lay.x[i], y: lay.y[i], key: node.key, state: node.state });
      });
      const style = nodes.length > 1000 ? "rect" : "circle"; // squares rasterize faster than arcs
      const sets = Array.from(byState.keys()).sort().map((state) => ({
        label: state, data: byState.get(state), backgroundColor: stateColor(state), borderWidth: 0,
        pointRadius: radius, pointHoverRadius: radius + 2, pointStyle: style, order: 0,
      }));
      sets.push({
        label: "dependencies", data: this.edges, showLine: true, spanGaps: false, pointRadius: 0,
        borderColor: "rgba(120,130,145,0.35)", borderWidth: 1, order: 1,
      });
      this.draw(sets, signature + "|" + nodes.map((node) => node.state).join(","));
      return nodes.length;
    }

    /* Hand the datasets to Chart.js unless they would draw what is on the canvas already (``shown``
     * describes them): a graph fetched again with the same states costs no layout and no frame. */
    draw(sets, shown) {
      if (shown === this.shown) return;
      this.shown = shown;
      this.chart.data.datasets = sets;
      this.chart.update("none");
    }

    updateGrouped(nodes, edges, signature) {
      if (signature !== this.signature) {
        this.signature = signature;
        const depth = layoutGraph(nodes.length, edges).x;
        const index = new Map();
        const groups = [];
        this.groupOf = nodes.map((node, i) => {
          const name = node.prefix + "@" + depth[i];
          let g = index.get(name);
          if (g === undefined) {
            index.set(name, (g = groups.length));
            groups.push({ prefix: node.prefix, depth: depth[i] });
          }
          return g;
        });
        const layers = new Map();
        groups.forEach((g, i) => {
          if (!layers.has(g.depth)) layers.set(g.depth, []);
          layers.get(g.depth).push(i);
        });
        for (const members of layers.values()) {
          members.forEach((g, place) => {
            groups[g].x = groups[g].depth;
            groups[g].y = place - (members.length - 1) / 2;
          });
        }
        const pairs = new Set();
        const lines = [];
        for (const [a, b] of edges) {
          const ga = this.groupOf[a];
          const gb = this.groupOf[b];
          if (ga === undefined || gb === undefined || ga === gb || pairs.has(ga + "," + gb)) continue;
          pairs.add(ga + "," + gb);
          lines.push({ x: groups[ga].x, y: groups[ga].y }, { x: groups[gb].x, y: groups[gb].y }, { x: null, y: null });
        }
        this.groups = groups;
        this.edges = lines;
      }
      const counts = this.groups.map(() => ({}));
      nodes.forEach((node, i) => {
        const c = counts[this.groupOf[i]];
        c[node.state] = (c[node.state] || 0) + 1;
      });
      const byState = new Map();
      this.groups.forEach((g, i) => {
        const c = counts[i];
        const total = Object.values(c).reduce((a, b) => a + b, 0);
        const state = GROUP_STATES.find((st) => c[st]) || Object.keys(c)[0];
        if (!byState.has(state)) byState.set(state, []);
        byState.get(state).push({ x: g.x, y: g.y, r: Math.min(16, 3 + Math.sqrt(total) / 3),
          key: g.prefix + " \u00d7 " + total, state: Object.entries(c).map(([k, v]) => v + " " + k).join(", ") });
      });
      const sets = Array.from(byState.keys()).sort().map((state) => ({
        label: state, data: byState.get(state), backgroundColor: stateColor(state), borderWidth: 0,
        pointRadius: byState.get(state).map((p) => p.r), order: 0,
      }));
      sets.push({
        label: "dependencies", data: this.edges, showLine: true, spanGaps: false, pointRadius: 0,
        borderColor: "rgba(120,130,145,0.6)", borderWidth: 1, order: 1,
      });
      this.draw(sets, signature + "|" + sets.map((set) => set.label + ":" +
        (set.label === "dependencies" ? "" : set.data.map((p) => p.key + "=" + p.state).join(";"))).join("|"));
      return nodes.length;
    }
  }

  /* Report: total compute seconds per prefix (bars), with the task count in the tooltip. */
  class PrefixTimeChart {
    constructor(canvas) {
      this.chart = new global.Chart(canvas, {
        type: "bar",
        data: { labels: [], datasets: [{ label: "compute seconds", data: [], backgroundColor: [], counts: [] }] },
        options: merge(BASE, {
          indexAxis: "y",
          scales: { x: { min: 0, title: { display: true, text: "seconds of compute (all threads)" } },
            y: { ticks: { autoSkip: false } } },
          plugins: {
            legend: { display: false },
            tooltip: { callbacks: { label: (ctx) => ctx.raw.toFixed(3) + " s in " +
              ctx.dataset.counts[ctx.dataIndex] + " tasks" } },
          },
        }),
      });
    }

    /* rows: [{prefix, seconds, count}] */
    update(rows) {
      const set = this.chart.data.datasets[0];
      this.chart.data.labels = rows.map((r) => r.prefix);
      set.data = rows.map((r) => r.seconds);
      set.counts = rows.map((r) => r.count);
      set.backgroundColor = rows.map((r) => colorOf(r.prefix));
      this.chart.update("none");
    }
  }

  /* Report: each worker's memory over time (one line per worker and kind). */
  class MemoryHistoryChart {
    constructor(canvas) {
      this.chart = new global.Chart(canvas, {
        type: "line",
        data: { datasets: [] },
        options: merge(BASE, {
          parsing: false,
          scales: {
            x: { type: "linear", title: { display: true, text: "seconds since the block began" } },
            y: { min: 0, ticks: { callback: (v) => formatBytes(v) } },
          },
          plugins: {
            legend: { position: "bottom", labels: { boxWidth: 10, font: { size: 10 } } },
            tooltip: { callbacks: { label: (ctx) => ctx.dataset.label + ": " + formatBytes(ctx.raw.y) } },
          },
        }),
      });
    }

    /* series: {worker: [{time, managed, spilled, unmanaged, ...}]}; origin, end: seconds since the epoch */
    update(series, origin, end) {
      const sets = [];
      const workers = Object.keys(series).sort();
      workers.forEach((worker) => {
        const color = colorOf(worker);
        [["managed", []], ["unmanaged", [4, 3]], ["spilled", [1, 2]]].forEach(([kind, dash]) => {
          const points = series[worker].map((p) => ({ x: p.time - origin, y: p[kind] || 0 }));
          if (kind === "spilled" && points.every((p) => p.y === 0)) return;
          sets.push({ label: shortWorker(worker) + " " + kind, data: points, borderColor: color,
            backgroundColor: color, borderDash: dash, pointRadius: 0, borderWidth: 1.5 });
        });
      });
      this.chart.data.datasets = sets;
      this.chart.options.scales.x.min = 0;
      this.chart.options.scales.x.max = end === undefined ? undefined : end - origin;
      this.chart.update("none");
    }
  }

  global.GFCharts = {
    colorOf: colorOf, stateColor: stateColor, formatBytes: formatBytes, shortWorker: shortWorker,
    streamRows: streamRows, progressParts: progressParts, layoutGraph: layoutGraph,
    ProgressChart: ProgressChart, MemoryChart: MemoryChart,
    WorkersChart: WorkersChart, GraphChart: GraphChart, PrefixTimeChart: PrefixTimeChart,
    MemoryHistoryChart: MemoryHistoryChart,
  };
})(typeof window !== "undefined" ? window : this);
