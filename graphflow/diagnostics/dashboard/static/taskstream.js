/* graphflow task stream: one bar per task run, one row per worker thread, drawn on one canvas.
 *
 * No chart library: the stream is the dashboard's busiest chart (up to 1,500 bars redrawn every second
 * while the cluster works), and a library that builds an object per bar, resolves its options and lays
 * out a legend costs the browser -- which shares the cores with the workers -- several times what the
 * pixels do.  Here a drawing is: clear, row labels, x ticks, then the bars, batched by colour (one path
 * per prefix, filled once), and a legend line of the prefixes shown.  The canvas is sized to its box
 * (times devicePixelRatio), re-read at each drawing, so a resized window draws sharp.
 *
 * update(records, t0, t1, origin): bars within [t0, t1] (seconds since the epoch), labelled relative to
 * t1 (the dashboard: seconds ago) or to origin when given (the report: seconds since the block began);
 * returns the number of bars drawn.  Hovering a bar puts its key and duration in the canvas's title.
 * The canvas's data-bars and data-drawn (drawings so far) attributes let tests and scripts check it.
 *
 * Adds TaskStreamChart to window.GFCharts (charts.js, loaded first, gives colorOf and shortWorker).
 */
(function (global) {
  "use strict";

  const C = global.GFCharts;
  const FONT = "10px system-ui, sans-serif";
  const LABEL_W = 130; // px kept left of the bars for the row labels
  const AXIS_H = 30; // px under the bars: tick labels and the axis title
  const LEGEND_H = 18; // px under the axis: the prefixes' colours
  const BAR_FILL = 0.85; // of a row's height
  const MIN_BAR_PX = 2; // a microsecond task still shows

  class TaskStreamChart {
    constructor(canvas, options) {
      this.canvas = canvas;
      this.options = options || {};
      this.bars = 0;
      this.drawn = 0;
      this.hits = []; // [x0, x1, y0, y1, record] of the last drawing, for the hover title
      canvas.addEventListener("mousemove", (ev) => this.hover(ev));
    }

    update(records, t0, t1, origin) {
      const zero = origin === undefined ? t1 : origin;
      const shown = records.filter((r) => r.stop >= t0 && r.start <= t1);
      const ctx = this.resize();
      const w = this.width;
      const h = this.height;
      ctx.clearRect(0, 0, w, h);
      ctx.font = FONT;
      const rows = rowsOf(shown);
      const plotW = Math.max(10, w - LABEL_W - 8);
      const plotH = Math.max(10, h - AXIS_H - LEGEND_H);
      const rowH = rows.length ? plotH / rows.length : plotH;
      const span = Math.max(t1 - t0, 1e-9);
      const xOf = (t) => LABEL_W + ((t - t0) / span) * plotW;

      // Row labels and a faint line between rows.
      ctx.fillStyle = "#1f2430";
      ctx.textAlign = "right";
      ctx.textBaseline = "middle";
      ctx.strokeStyle = "#eceef2";
      ctx.beginPath();
      rows.forEach((name, i) => {
        ctx.fillText(name, LABEL_W - 6, (i + 0.5) * rowH);
        ctx.moveTo(LABEL_W, (i + 1) * rowH + 0.5);
        ctx.lineTo(LABEL_W + plotW, (i + 1) * rowH + 0.5);
      });
      ctx.stroke();
      this.axis(ctx, t0, t1, zero, xOf, plotH);

      // Bars, one path per colour; erred runs get a black outline.
      const index = new Map(rows.map((name, i) => [name, i]));
      const byColor = new Map();
      const erred = [];
      this.hits = [];
      for (const r of shown) {
        const row = index.get(rowName(r));
        const x0 = Math.max(LABEL_W, xOf(r.start));
        const x1 = Math.max(x0 + MIN_BAR_PX, Math.min(LABEL_W + plotW, xOf(r.stop)));
        const y0 = row * rowH + (rowH * (1 - BAR_FILL)) / 2;
        const bh = rowH * BAR_FILL;
        const color = C.colorOf(r.prefix);
        let rects = byColor.get(color);
        if (!rects) byColor.set(color, (rects = []));
        rects.push(x0, y0, x1 - x0, bh);
        if (r.status === "erred") erred.push(x0, y0, x1 - x0, bh);
        this.hits.push([x0, x1, y0, y0 + bh, r]);
      }
      for (const [color, rects] of byColor) {
        ctx.fillStyle = color;
        ctx.beginPath();
        for (let i = 0; i < rects.length; i += 4) ctx.rect(rects[i], rects[i + 1], rects[i + 2], rects[i + 3]);
        ctx.fill();
      }
      if (erred.length) {
        ctx.strokeStyle = "#000000";
        ctx.lineWidth = 2;
        ctx.beginPath();
        for (let i = 0; i < erred.length; i += 4) ctx.rect(erred[i], erred[i + 1], erred[i + 2], erred[i + 3]);
        ctx.stroke();
        ctx.lineWidth = 1;
      }
      this.legend(ctx, shown, h);
      this.bars = shown.length;
      this.drawn++;
      this.canvas.dataset.bars = String(this.bars);
      this.canvas.dataset.drawn = String(this.drawn);
      return this.bars;
    }

    /* The 2D context, the canvas's backing store matched to its box and the device's pixel ratio. */
    resize() {
      const box = this.canvas.parentElement || this.canvas;
      const ratio = global.devicePixelRatio || 1;
      const w = Math.max(50, box.clientWidth || 600);
      const h = Math.max(50, box.clientHeight || 300);
      if (this.canvas.width !== Math.round(w * ratio) || this.canvas.height !== Math.round(h * ratio)) {
        this.canvas.width = Math.round(w * ratio);
        this.canvas.height = Math.round(h * ratio);
        this.canvas.style.width = w + "px";
        this.canvas.style.height = h + "px";
      }
      this.width = w;
      this.height = h;
      const ctx = this.canvas.getContext("2d");
      ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
      return ctx;
    }

    axis(ctx, t0, t1, zero, xOf, plotH) {
      const step = niceStep((t1 - t0) / 8);
      ctx.fillStyle = "#1f2430";
      ctx.strokeStyle = "#b0b7c3";
      ctx.textAlign = "center";
      ctx.textBaseline = "top";
      ctx.beginPath();
      ctx.moveTo(LABEL_W, plotH + 0.5);
      ctx.lineTo(xOf(t1), plotH + 0.5);
      for (let v = Math.ceil((t0 - zero) / step) * step; v <= t1 - zero + 1e-9; v += step) {
        const x = Math.round(xOf(v + zero)) + 0.5;
        ctx.moveTo(x, plotH);
        ctx.lineTo(x, plotH + 4);
        ctx.fillText(formatTick(v, step), x, plotH + 5);
      }
      ctx.stroke();
      ctx.fillText(this.options.xTitle || "seconds", LABEL_W + (xOf(t1) - LABEL_W) / 2, plotH + 17);
    }

    legend(ctx, shown, h) {
      const prefixes = Array.from(new Set(shown.map((r) => r.prefix))).sort();
      let x = LABEL_W;
      const y = h - LEGEND_H / 2;
      ctx.textAlign = "left";
      ctx.textBaseline = "middle";
      for (const p of prefixes) {
        ctx.fillStyle = C.colorOf(p);
        ctx.fillRect(x, y - 5, 10, 10);
        ctx.fillStyle = "#1f2430";
        ctx.fillText(p, x + 14, y);
        x += 24 + ctx.measureText(p).width;
        if (x > this.width - 40) break;
      }
    }

    hover(ev) {
      const rect = this.canvas.getBoundingClientRect();
      const x = ev.clientX - rect.left;
      const y = ev.clientY - rect.top;
      for (let i = this.hits.length - 1; i >= 0; i--) {
        const [x0, x1, y0, y1, r] = this.hits[i];
        if (x >= x0 && x <= x1 && y >= y0 && y <= y1) {
          this.canvas.title = r.key + " (" + ((r.stop - r.start) * 1000).toFixed(1) + " ms" +
            (r.status === "erred" ? ", erred" : "") + ")";
          return;
        }
      }
      this.canvas.title = "";
    }
  }

  function rowName(r) {
    return C.shortWorker(r.worker) + " #" + r.thread;
  }

  function rowsOf(records) {
    const rows = new Set();
    for (const r of records) rows.add(rowName(r));
    return Array.from(rows).sort();
  }

  /* 1, 2 or 5 times a power of ten, at least ``raw``. */
  function niceStep(raw) {
    const p = Math.pow(10, Math.floor(Math.log10(Math.max(raw, 1e-9))));
    for (const m of [1, 2, 5, 10]) if (m * p >= raw) return m * p;
    return 10 * p;
  }

  function formatTick(v, step) {
    const digits = step >= 1 ? 0 : Math.min(6, Math.ceil(-Math.log10(step)));
    return (Math.abs(v) < step / 2 ? 0 : v).toFixed(digits);
  }

  C.TaskStreamChart = TaskStreamChart;
})(window);
