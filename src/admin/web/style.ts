/**
 * The web dashboard's stylesheet, served as `/dashboard.css`: neutral
 * light and dark themes (the browser's `prefers-color-scheme` picks), the
 * system's own fonts (nothing is downloaded), tabular figures so columns
 * of numbers line up, and the terminal dashboard's moods as colours: green
 * good, yellow warn, red bad.
 *
 * @module
 */

/** The page's CSS. */
export const STYLE = String.raw`
:root {
  color-scheme: light dark;
  --bg: #f4f5f7;
  --panel: #ffffff;
  --text: #1c2230;
  --muted: #677084;
  --line: #e2e5ea;
  --head: #f8f9fb;
  --good: #1a7f37;
  --warn: #9a6700;
  --bad: #cf222e;
  --good-bg: #dafbe1;
  --warn-bg: #fff1c2;
  --bad-bg: #ffe0e0;
  --plain-bg: #eceef2;
  --rps: #2f6fdd;
  --errors: #cf222e;
  --p95: #8250df;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #0e1116;
    --panel: #161b22;
    --text: #e6e9ee;
    --muted: #8b94a3;
    --line: #2a313c;
    --head: #1b212a;
    --good: #3fb950;
    --warn: #d29922;
    --bad: #f85149;
    --good-bg: #12361e;
    --warn-bg: #3b2e0a;
    --bad-bg: #47181a;
    --plain-bg: #252c36;
    --rps: #58a6ff;
    --errors: #f85149;
    --p95: #bc8cff;
  }
}
* { box-sizing: border-box; }
[hidden] { display: none !important; }
html, body { margin: 0; background: var(--bg); color: var(--text); }
body {
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif;
  padding: 0 20px 24px;
}
h1 { font-size: 18px; margin: 0; font-weight: 650; }
h2 { font-size: 13px; margin: 0 0 10px; font-weight: 650; text-transform: uppercase; letter-spacing: .04em; }
h2 .muted { text-transform: none; letter-spacing: 0; font-weight: 400; margin-left: 6px; }
.muted { color: var(--muted); }
.good { color: var(--good); }
.warn { color: var(--warn); }
.bad { color: var(--bad); }

.bar {
  display: flex; align-items: center; gap: 20px; flex-wrap: wrap;
  padding: 14px 0; border-bottom: 1px solid var(--line); margin-bottom: 16px;
}
.brand { display: flex; align-items: center; gap: 10px; }
.mark {
  width: 22px; height: 22px; border-radius: 6px;
  background: linear-gradient(135deg, var(--rps), var(--p95));
}
.where { display: flex; gap: 16px; flex-wrap: wrap; color: var(--text); flex: 1; }
.link { display: flex; align-items: center; gap: 8px; color: var(--muted); font-size: 13px; }
.link .dot { width: 9px; height: 9px; border-radius: 50%; background: var(--muted); }
.link[data-state="live"] .dot { background: var(--good); box-shadow: 0 0 0 3px var(--good-bg); }
.link[data-state="retrying"] .dot, .link[data-state="connecting"] .dot { background: var(--warn); }
.link[data-state="locked"] .dot { background: var(--bad); }

.panel {
  background: var(--panel); border: 1px solid var(--line); border-radius: 8px;
  padding: 14px 16px; margin: 0 0 16px;
}
body.stale main { opacity: .55; }

.figures { display: grid; grid-template-columns: repeat(auto-fit, minmax(130px, 1fr)); gap: 12px; margin-bottom: 16px; }
.figure { margin: 0; padding: 10px 14px; display: flex; flex-direction: column; }
.figure .label { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }
.figure .value { font-size: 24px; font-weight: 600; font-variant-numeric: tabular-nums; }

.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(280px, 1fr)); gap: 12px; margin-bottom: 16px; }
.chart { margin: 0; padding: 12px 14px 8px; }
.chart figcaption { display: flex; justify-content: space-between; font-size: 13px; color: var(--muted); margin-bottom: 4px; }
.chart figcaption b { color: var(--text); font-variant-numeric: tabular-nums; font-weight: 600; }
.plot { display: block; width: 100%; height: 130px; }
.plot .grid { stroke: var(--line); stroke-width: 1; stroke-dasharray: 3 3; }
.plot .axis { stroke: var(--line); stroke-width: 1; }
.plot .tick { fill: var(--muted); font-size: 10.5px; font-variant-numeric: tabular-nums; }
.plot .tick.end { text-anchor: end; }
.plot .tick.middle { text-anchor: middle; }
.plot .tick.start { text-anchor: start; }
.plot .line { fill: none; stroke-width: 1.8; stroke-linejoin: round; stroke-linecap: round; }
.plot .area { stroke: none; opacity: .14; }
.plot.rps .line { stroke: var(--rps); }
.plot.rps .area { fill: var(--rps); }
.plot.errors .line { stroke: var(--errors); }
.plot.errors .area { fill: var(--errors); }
.plot.p95 .line { stroke: var(--p95); }
.plot.p95 .area { fill: var(--p95); }

.scroll { overflow-x: auto; }
.scroll.events { max-height: 340px; overflow-y: auto; }
table.grid { width: 100%; border-collapse: collapse; font-variant-numeric: tabular-nums; }
.grid th {
  text-align: left; font-weight: 600; font-size: 12px; color: var(--muted); white-space: nowrap;
  background: var(--head); padding: 6px 10px; border-bottom: 1px solid var(--line);
  position: sticky; top: 0;
}
.grid td { padding: 6px 10px; border-bottom: 1px solid var(--line); white-space: nowrap; }
.grid tr:last-child td { border-bottom: none; }
.grid .num { text-align: right; }
.grid td.url { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 13px; }
.grid td.pool { font-weight: 600; }
.grid td.message { white-space: normal; width: 100%; }
.grid td.time, .grid td.kind { width: 1%; }
.grid tr.mood-bad td { background: color-mix(in srgb, var(--bad-bg) 45%, transparent); }
.grid tr.mood-warn td { background: color-mix(in srgb, var(--warn-bg) 45%, transparent); }

.pill {
  display: inline-block; padding: 1px 8px; border-radius: 999px; font-size: 12px; font-weight: 600;
  line-height: 18px; white-space: nowrap;
}
.pill.good { background: var(--good-bg); color: var(--good); }
.pill.warn { background: var(--warn-bg); color: var(--warn); }
.pill.bad { background: var(--bad-bg); color: var(--bad); }
.pill.plain { background: var(--plain-bg); color: var(--muted); }

.columns { display: grid; grid-template-columns: minmax(340px, 1fr) minmax(320px, 1.6fr); gap: 16px; }
.columns .panel { margin-bottom: 16px; }
.columns h2 + .scroll + h2 { margin-top: 16px; }
.fields { display: grid; grid-template-columns: max-content 1fr; gap: 6px 16px; margin: 0; }
.fields dt { color: var(--muted); }
.fields dd { margin: 0; font-variant-numeric: tabular-nums; }
.fields dd.strong { font-weight: 650; font-size: 16px; }

.login { max-width: 440px; margin: 60px auto; }
.login p { color: var(--muted); }
.login .row { display: flex; gap: 8px; }
.login input {
  flex: 1; font: inherit; padding: 7px 10px; border-radius: 6px;
  border: 1px solid var(--line); background: var(--bg); color: var(--text);
}
.login button {
  font: inherit; font-weight: 600; padding: 7px 16px; border-radius: 6px; border: none;
  background: var(--rps); color: #fff; cursor: pointer;
}
.login .error { color: var(--bad); min-height: 1.4em; margin: 10px 0 0; }

@media (max-width: 760px) {
  .columns { grid-template-columns: 1fr; }
  body { padding: 0 10px 16px; }
}
`;
