/**
 * The page script's first part: number and time formats and the figures
 * derived from two frames, as the terminal dashboard prints and derives
 * them (`dashboard/_format.ts`, `dashboard/_figures.ts`), so both
 * dashboards show the same figures the same way; and two DOM helpers.
 *
 * Browser JavaScript kept as a string (see `script.ts` for why and how);
 * it runs inside the script's one function scope.
 *
 * @module
 */

/** Formats, figures, DOM helpers. */
export const CLIENT_BASE = String.raw`
var NONE = "\u2013";

function pad2(n) {
  return String(n).padStart(2, "0");
}

function finite(n) {
  return typeof n === "number" && isFinite(n);
}

/** 3s, 2m05s, 1h02m03s, 3d04h05m: the terminal dashboard's durations. */
function formatDuration(ms) {
  if (!finite(ms)) return NONE;
  var s = Math.floor(Math.max(0, ms) / 1000);
  var d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600);
  var m = Math.floor((s % 3600) / 60), sec = s % 60;
  if (d > 0) return d + "d" + pad2(h) + "h" + pad2(m) + "m";
  if (h > 0) return h + "h" + pad2(m) + "m" + pad2(sec) + "s";
  if (m > 0) return m + "m" + pad2(sec) + "s";
  return sec + "s";
}

/** HH:MM:SS in UTC, as the log lines the same events go to. */
function formatClock(epochMs) {
  if (!finite(epochMs)) return "--:--:--";
  var t = new Date(epochMs);
  return pad2(t.getUTCHours()) + ":" + pad2(t.getUTCMinutes()) + ":" + pad2(t.getUTCSeconds());
}

function formatPerSecond(n) {
  if (!finite(n)) return NONE;
  if (n < 1000) return n.toFixed(1);
  if (n < 100000) return String(Math.round(n));
  return Math.round(n / 1000) + "k";
}

var UNITS = [["k", 1e3], ["M", 1e6], ["G", 1e9]];

/** Whole below 10 000, then 12.3k, 456k, 4.5M: never 100.0k or 1000k. */
function formatCount(n) {
  if (!finite(n)) return NONE;
  var abs = Math.abs(n);
  if (abs < 10000) return String(Math.round(n));
  for (var i = UNITS.length - 1; i >= 0; i--) {
    var unit = UNITS[i][0], size = UNITS[i][1];
    if (abs < size) continue;
    var v = n / size, next = UNITS[i + 1];
    if (Math.abs(v) < 99.95) return v.toFixed(1) + unit;
    if (Math.abs(v) < 999.5 || !next) return Math.round(v) + unit;
    return (n / next[1]).toFixed(1) + next[0];
  }
  return String(Math.round(n));
}

function formatMs(ms) {
  if (!finite(ms)) return NONE;
  return ms < 10 ? ms.toFixed(1) : formatCount(ms);
}

function formatPercent(share) {
  return finite(share) ? (share * 100).toFixed(1) + "%" : NONE;
}

function formatRate(rate) {
  return finite(rate) ? rate.toFixed(1) : NONE;
}

/** Seconds between two frames, or undefined without a usable previous one. */
function interval(now, previous) {
  if (!previous) return undefined;
  var dt = (now.time - previous.time) / 1000;
  return finite(dt) && dt > 0 ? dt : undefined;
}

/** (now - before) / seconds; undefined when a figure is missing or the counter went back. */
function perSecond(now, before, seconds) {
  if (!finite(before) || seconds === undefined) return undefined;
  var delta = now - before;
  return delta >= 0 ? delta / seconds : undefined;
}

function responseTotals(status) {
  var r = status.global.responses, all = 0;
  for (var k in r) all += r[k];
  return { all: all, errors: r["5xx"] || 0 };
}

/** The 5xx share between two frames, or since start without a previous one. */
function errorShare(now, previous) {
  var cur = responseTotals(now.status), all = cur.all, errors = cur.errors;
  if (interval(now, previous) !== undefined) {
    var before = responseTotals(previous.status);
    all -= before.all;
    errors -= before.errors;
  }
  return all > 0 && errors >= 0 ? Math.min(1, errors / all) : undefined;
}

/** A backend is its pool and its URL. */
function backendKey(b) {
  return b.pool + " " + b.url;
}

/** bad when unhealthy or open, warn when half-open or warming up, good otherwise. */
function backendMood(b) {
  if (b.health === "unhealthy" || b.breaker.state === "open") return "bad";
  if (b.breaker.state === "half_open" || b.warmup_percent < 100) return "warn";
  return "good";
}

/** An element with a class and text. [SECURITY] Text only, never markup: names, URLs and event messages come from outside. */
function el(tag, className, text) {
  var e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
}

function byId(id) {
  return document.getElementById(id);
}
`;
