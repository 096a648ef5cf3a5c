/**
 * The page script's charts: requests per second, error rate and P95 over
 * the last 15 minutes, drawn as SVG by the script itself (no library, so
 * nothing is fetched from elsewhere and the page works offline).
 *
 * Each chart spans the 15 minutes up to the newest point, scales its y axis
 * to a round number at or above its highest value (never below a floor, so
 * an idle proxy draws a flat line at the bottom rather than noise blown up
 * to full height), and breaks its line where a figure is missing or points
 * are far apart (Aegis restarted). The number of points drawn is kept in
 * `data-points`, which the browser test reads.
 *
 * Browser JavaScript kept as a string (see `script.ts`).
 *
 * @module
 */

/** The charts. */
export const CLIENT_CHARTS = String.raw`
var WINDOW_MS = 15 * 60 * 1000;
/** Points further apart than this (ms) are not joined: the history has one a second. */
var GAP_MS = 5000;
var SVG_NS = "http://www.w3.org/2000/svg";

/** A tick label: whole numbers as counts, others with at most three digits. */
function tickNumber(v) {
  return Number.isInteger(v) ? formatCount(v) : String(Number(v.toPrecision(3)));
}

var CHARTS = [
  {
    id: "chart-rps",
    field: "requests_per_second",
    floor: 1,
    tick: tickNumber,
    now: function (v) { return formatPerSecond(v) + "/s"; },
  },
  {
    id: "chart-errors",
    field: "error_share",
    floor: 0.01,
    tick: function (v) { return tickNumber(v * 100) + "%"; },
    now: formatPercent,
  },
  {
    id: "chart-p95",
    field: "p95_ms",
    floor: 1,
    tick: tickNumber,
    now: function (v) { return formatMs(v) + " ms"; },
  },
];

function svg(tag, attrs, text) {
  var e = document.createElementNS(SVG_NS, tag);
  for (var k in attrs) e.setAttribute(k, String(attrs[k]));
  if (text !== undefined) e.textContent = text;
  return e;
}

/** The smallest of 1, 2, 2.5, 5 times a power of ten at or above v. */
function niceCeil(v) {
  var p = Math.pow(10, Math.floor(Math.log10(v)));
  var steps = [1, 2, 2.5, 5, 10];
  for (var i = 0; i < steps.length; i++) if (steps[i] * p >= v * (1 - 1e-9)) return steps[i] * p;
  return 10 * p;
}

function drawChart(chart, points, now) {
  var figure = byId(chart.id), plot = figure.querySelector("svg");
  var w = Math.max(120, plot.clientWidth), h = Math.max(60, plot.clientHeight);
  var left = 46, right = 10, top = 8, bottom = 20;
  var from = now - WINDOW_MS, max = chart.floor, latest;
  points.forEach(function (p) {
    var v = p[chart.field];
    if (p.time >= from && finite(v)) {
      max = Math.max(max, v);
      latest = v;
    }
  });
  max = niceCeil(max);
  var x = function (t) { return left + (t - from) / WINDOW_MS * (w - left - right); };
  var y = function (v) { return h - bottom - v / max * (h - top - bottom); };
  var nodes = [];
  [0, 0.5, 1].forEach(function (f) {
    var at = y(max * f).toFixed(1);
    nodes.push(svg("line", { x1: left, x2: w - right, y1: at, y2: at, class: f ? "grid" : "axis" }));
    nodes.push(svg("text", { x: left - 6, y: Number(at) + 4, class: "tick end" }, chart.tick(max * f)));
  });
  [15, 10, 5, 0].forEach(function (m) {
    var anchor = m === 15 ? "start" : m === 0 ? "end" : "middle";
    var label = m === 0 ? "now" : "\u2212" + m + " min";
    nodes.push(svg("text", { x: x(now - m * 60000), y: h - 5, class: "tick " + anchor }, label));
  });
  var line = "", area = "", count = 0, segment = [], last;
  var base = y(0).toFixed(1);
  var flush = function () {
    if (segment.length > 0) {
      var first = segment[0], end = segment[segment.length - 1];
      // One point alone is a dot: a zero-length stroke with round caps.
      line += "M" + segment.join("L") + (segment.length === 1 ? "l0.01,0" : "");
      area += "M" + first[0] + "," + base + "L" + segment.join("L") + "L" + end[0] + "," + base + "Z";
    }
    segment = [];
  };
  points.forEach(function (p) {
    var v = p[chart.field];
    if (p.time < from || !finite(v)) return flush();
    if (last !== undefined && p.time - last > GAP_MS) flush();
    segment.push([x(p.time).toFixed(1), y(v).toFixed(1)]);
    last = p.time;
    count++;
  });
  flush();
  nodes.push(svg("path", { d: area, class: "area" }));
  nodes.push(svg("path", { d: line, class: "line" }));
  plot.setAttribute("viewBox", "0 0 " + w + " " + h);
  plot.replaceChildren.apply(plot, nodes);
  figure.dataset.points = String(count);
  figure.querySelector(".now").textContent = latest === undefined ? NONE : chart.now(latest);
}

function drawCharts(points, now) {
  CHARTS.forEach(function (chart) {
    drawChart(chart, points, now);
  });
}
`;
