/* graphflow performance report: draws the charts of charts.js from the JSON embedded in the report file.
 *
 * The file is standalone: Chart.js, charts.js and this script are inlined by graphflow/diagnostics/report.py,
 * and the data sits in <script type="application/json" id="report-data">:
 *   {start, stop, duration, ntasks, task_stream: [records], prefixes: [{prefix, seconds, count}],
 *    memory: {worker: [{time, managed, spilled, unmanaged, rss}]}, logs: {worker: [[time, level, message]]}}
 */
(function () {
  "use strict";

  const C = window.GFCharts;
  const data = JSON.parse(document.getElementById("report-data").textContent);

  const stream = new C.TaskStreamChart(document.getElementById("chart-task-stream"),
    { xTitle: "seconds since the block began" });
  const bars = stream.update(data.task_stream, data.start, Math.max(data.stop, data.start + 1e-3), data.start);
  document.getElementById("summary").dataset.streamBars = String(bars);

  new C.PrefixTimeChart(document.getElementById("chart-prefixes")).update(data.prefixes);

  const memory = data.memory || {};
  if (Object.keys(memory).length) {
    new C.MemoryHistoryChart(document.getElementById("chart-memory-history")).update(memory, data.start, data.stop);
  } else {
    document.getElementById("panel-memory").querySelector(".chart").textContent =
      "no memory samples in this block (it was shorter than the scheduler's sampling interval)";
  }
})();
