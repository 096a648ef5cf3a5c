/**
 * The page script's panels: header, headline figures, backends, rate
 * limiter, listeners, pools and events, each drawn from a frame (and the
 * previous one, for rates) with the terminal dashboard's columns and
 * colours: green when all is well, yellow while half-open or warming up,
 * red when unhealthy or open.
 *
 * Browser JavaScript kept as a string (see `script.ts`). Every panel is
 * redrawn whole from each frame: a frame is the truth, and at one frame a
 * second the cost is nothing next to keeping old rows in step.
 *
 * @module
 */

/** The panels. */
export const CLIENT_PANELS = String.raw`
/**
 * A table's head and body, rebuilt; columns are [title, numeric?].
 * With no rows, one row across every column shows the message given as empty.
 */
function fillTable(table, columns, rows, empty) {
  var head = el("tr");
  columns.forEach(function (c) {
    head.appendChild(el("th", c[1] ? "num" : "", c[0]));
  });
  if (rows.length === 0) {
    var none = el("tr");
    none.appendChild(cell(empty, "muted")).colSpan = columns.length;
    rows = [none];
  }
  table.tHead.replaceChildren(head);
  table.tBodies[0].replaceChildren.apply(table.tBodies[0], rows);
}

/** A table cell; numeric cells are right-aligned. */
function cell(text, className) {
  return el("td", className, text);
}

function pill(text, mood) {
  return el("span", "pill " + mood, text);
}

function renderHeader(s) {
  byId("title").textContent = "Aegis " + s.version;
  byId("draining").hidden = !s.drain.draining;
  var parts = [["up", formatDuration(s.uptime_seconds * 1000)]];
  var http = s.listeners.length > 1 ? s.listeners : [{ name: "", address: s.listen.public }];
  http.forEach(function (l) {
    parts.push([l.name, l.address]);
  });
  byId("where").replaceChildren.apply(byId("where"), parts.map(function (p) {
    var span = el("span", "field");
    if (p[0]) span.appendChild(el("span", "muted", p[0] + " "));
    span.appendChild(el("span", "", p[1]));
    return span;
  }));
}

function renderFigures(frame, previous) {
  var s = frame.status, dt = interval(frame, previous), p = previous && previous.status;
  var inFlight = 0, healthy = 0;
  s.backends.forEach(function (b) {
    inFlight += b.in_flight;
    if (b.health === "healthy") healthy++;
  });
  var share = errorShare(frame, previous);
  var cards = [
    ["req/s", formatPerSecond(perSecond(s.global.requests, p && p.global.requests, dt)), ""],
    ["in flight", formatCount(inFlight), ""],
    ["errors", formatPercent(share), !share ? "" : share >= 0.05 ? "bad" : "warn"],
    ["rate", formatRate(s.limiter.rate) + "/s", ""],
    ["429/s", formatPerSecond(perSecond(s.global.rate_limited, p && p.global.rate_limited, dt)), ""],
    ["connections", formatCount(s.global.active_connections), ""],
    [
      "healthy",
      healthy + "/" + s.backends.length,
      healthy === s.backends.length ? "good" : healthy === 0 ? "bad" : "warn",
    ],
  ];
  byId("figures").replaceChildren.apply(byId("figures"), cards.map(function (c) {
    var card = el("div", "figure panel");
    card.dataset.figure = c[0];
    card.appendChild(el("span", "label", c[0]));
    card.appendChild(el("span", "value " + c[2], c[1]));
    return card;
  }));
}

function renderBackends(frame, previous) {
  var s = frame.status, dt = interval(frame, previous);
  var before = new Map();
  if (previous) {
    previous.status.backends.forEach(function (b) {
      before.set(backendKey(b), b);
    });
  }
  var pooled = s.pools.length > 1;
  var columns = [
    ["URL"], ["Health"], ["Breaker"], ["Warm-up", 1], ["Weight", 1], ["In flight", 1],
    ["Req/s", 1], ["Requests", 1], ["P50", 1], ["P95", 1], ["P99", 1], ["Errors", 1],
  ];
  if (pooled) columns.unshift(["Pool"]);
  var rows = s.backends.map(function (b, i) {
    var mood = backendMood(b), l = b.latency_ms, was = before.get(backendKey(b));
    // No samples in the window: the zeros mean "unknown", not "instant".
    var ms = function (v) {
      return cell(l.count > 0 ? formatMs(v) : NONE, "num");
    };
    var breaker = b.breaker.state;
    var tr = el("tr", "mood-" + mood);
    tr.dataset.url = b.url;
    tr.dataset.pool = b.pool;
    if (pooled) {
      var first = i === 0 || s.backends[i - 1].pool !== b.pool;
      tr.appendChild(cell(first ? b.pool : "", "pool"));
    }
    tr.appendChild(cell(b.url, "url " + mood));
    tr.appendChild(el("td", "health")).appendChild(
      pill(b.health, b.health === "healthy" ? "good" : "bad"),
    );
    tr.appendChild(el("td", "breaker")).appendChild(pill(
      breaker === "half_open" ? "half-open" : breaker,
      breaker === "closed" ? "good" : breaker === "open" ? "bad" : "warn",
    ));
    tr.appendChild(cell(
      Math.round(b.warmup_percent) + "%",
      "num" + (b.health === "healthy" && b.warmup_percent < 100 ? " warn" : ""),
    ));
    tr.appendChild(cell(formatCount(b.effective_weight) + "/" + formatCount(b.weight), "num"));
    tr.appendChild(cell(formatCount(b.in_flight), "num"));
    tr.appendChild(cell(formatPerSecond(perSecond(b.requests, was && was.requests, dt)), "num"));
    tr.appendChild(cell(String(b.requests), "num requests"));
    tr.appendChild(ms(l.p50));
    tr.appendChild(ms(l.p95));
    tr.appendChild(ms(l.p99));
    tr.appendChild(cell(formatCount(b.errors), "num" + (b.errors > 0 ? " bad" : "")));
    return tr;
  });
  fillTable(byId("backends"), columns, rows, "no backends configured");
  var healthy = s.backends.filter(function (b) {
    return b.health === "healthy";
  }).length;
  byId("backends-summary").textContent = healthy + "/" + s.backends.length +
    " healthy \u00b7 latency in ms";
}

/** label value rows of a definition list. */
function fillFields(list, fields) {
  var nodes = [];
  fields.forEach(function (f) {
    nodes.push(el("dt", "", f[0]));
    nodes.push(el("dd", f[2] || "", f[1]));
  });
  list.replaceChildren.apply(list, nodes);
}

function renderLimiter(frame, previous) {
  var s = frame.status, l = s.limiter, p = previous && previous.status;
  var rejected = perSecond(s.global.rate_limited, p && p.global.rate_limited, interval(frame, previous));
  var c = l.last_change;
  var change = c === null ? "no change yet" : formatRate(c.from) + " \u2192 " + formatRate(c.to) +
    " " + c.reason + " (P95 " + formatMs(c.p95_ms) + " ms) " +
    formatDuration(frame.time - c.time) + " ago";
  var fields = [
    ["rate", formatRate(l.rate) + "/s", "strong"],
    ["bounds", formatRate(l.min_rate) + " \u2013 " + formatRate(l.max_rate)],
    ["burst", formatCount(l.burst)],
    ["clients", formatCount(l.tracked_clients) + "/" + formatCount(l.max_clients)],
    ["429/s", formatPerSecond(rejected)],
    ["last change", change, c === null ? "muted" : c.reason === "reduce" ? "warn" : "good"],
  ];
  if (l.evictions > 0) fields.push(["evicted", formatCount(l.evictions), "warn"]);
  fillFields(byId("limiter"), fields);
  // With several listeners the panel shows the first one's limiter; it says so.
  byId("limiter-title").textContent = s.listeners.length > 1
    ? "Rate limiter \u00b7 " + s.listeners[0].name
    : "Rate limiter";
}

function renderListeners(s) {
  var rows = s.listeners.map(function (l) {
    var tr = el("tr");
    tr.appendChild(cell(l.name));
    tr.appendChild(cell(l.protocol, "muted"));
    tr.appendChild(cell(l.address));
    tr.appendChild(cell(l.pools.join(", ")));
    tr.appendChild(cell(formatCount(l.requests), "num"));
    tr.appendChild(cell(formatCount(l.rate_limited), "num"));
    tr.appendChild(cell(
      formatCount(l.connections.active) + "/" + formatCount(l.connections.max_connections),
      "num",
    ));
    return tr;
  });
  fillTable(byId("listeners"), [
    ["Listener"], ["Protocol"], ["Address"], ["Pools"], ["Requests", 1], ["429", 1],
    ["Connections", 1],
  ], rows, "no listeners");
}

function renderPools(s) {
  var rows = s.pools.map(function (p) {
    var n = p.backends.length;
    var tr = el("tr");
    tr.appendChild(cell(p.name));
    tr.appendChild(cell(
      p.healthy + "/" + n,
      "num " + (p.healthy === n ? "good" : p.healthy === 0 ? "bad" : "warn"),
    ));
    tr.appendChild(cell(p.available + "/" + n, "num " + (p.available > 0 ? "" : "bad")));
    return tr;
  });
  fillTable(byId("pools"), [["Pool"], ["Healthy", 1], ["Available", 1]], rows, "no pools");
}

/** An event's colour, as the terminal's event log has it. */
function eventMood(e) {
  var f = e.fields || {};
  switch (e.kind) {
    case "breaker":
      return f.to === "open" ? "bad" : f.to === "closed" ? "good" : "warn";
    case "health":
      return f.health === "unhealthy" ? "bad" : f.health === "healthy" ? "good" : "";
    case "warmup":
    case "drain":
      return "warn";
    case "rate":
      return f.reason === "reduce" ? "warn" : f.reason === "recover" ? "good" : "";
    case "reload":
      return f.ok === false ? "bad" : f.ok === true ? "good" : "";
    case "limit":
      return f.reason !== undefined ? "bad" : "good";
    case "log":
      return f.level === "error" ? "bad" : "warn";
    default:
      return "";
  }
}

function renderEvents(s) {
  var rows = s.events.map(function (e) {
    var mood = eventMood(e);
    var tr = el("tr", "event");
    tr.dataset.kind = e.kind;
    tr.appendChild(cell(formatClock(e.time), "time muted"));
    tr.appendChild(el("td", "kind")).appendChild(pill(e.kind, mood || "plain"));
    tr.appendChild(cell(e.message, "message " + mood));
    return tr;
  });
  fillTable(byId("events"), [["Time (UTC)"], ["Kind"], ["Event"]], rows, "no events yet");
  byId("events-summary").textContent = s.events.length === 0
    ? ""
    : s.events.length + " most recent, newest first";
}
`;
