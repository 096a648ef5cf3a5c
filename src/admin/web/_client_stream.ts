/**
 * The page script's connection: reads `GET /stream` with `fetch()` and its
 * own Server-Sent Events parser, reconnects by itself with a growing wait
 * (the stream's `retry:`, doubled per failure, at most 15 s), and asks for
 * the admin token when the stream answers 401.
 *
 * Why not `EventSource`: it cannot send an `Authorization` header, and the
 * alternatives (the token in the URL, or a cookie) would leave the token in
 * logs, history or the cookie jar. With `fetch()` the token travels only in
 * the header, and lives only in a variable of this script: gone when the
 * page is closed or reloaded.
 *
 * Browser JavaScript kept as a string (see `script.ts`).
 *
 * @module
 */

/** The connection loop, the login form and the start. */
export const CLIENT_STREAM = String.raw`
/** [SECURITY] The admin token: in this variable only, never in a URL, a cookie or storage. */
var token = null;
var retryMs = 2000;
var MAX_RETRY_MS = 15000;
var failures = 0;
var retryTimer;
var points = [];
var previous;
var latest;

function setLink(state, text) {
  byId("link").dataset.state = state;
  byId("link-text").textContent = text;
}

/** A Server-Sent Events parser: feed it text, it calls onMessage(event, data) per message. */
function eventParser(onMessage) {
  var buffer = "", event = "", data = [];
  return function (text) {
    buffer += text;
    var lines = buffer.split(/\r\n|\r|\n/);
    buffer = lines.pop();
    lines.forEach(function (line) {
      if (line === "") {
        if (data.length > 0) onMessage(event || "message", data.join("\n"));
        event = "";
        data = [];
        return;
      }
      if (line[0] === ":") return;
      var colon = line.indexOf(":");
      var field = colon < 0 ? line : line.slice(0, colon);
      var value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
      if (field === "event") event = value;
      else if (field === "data") data.push(value);
      else if (field === "retry" && /^\d+$/.test(value)) retryMs = Number(value);
    });
  };
}

function formatInterval(ms) {
  return ms < 1000 ? ms + " ms" : Number((ms / 1000).toPrecision(3)) + " s";
}

function show(frame) {
  renderHeader(frame.status);
  renderFigures(frame, previous);
  renderBackends(frame, previous);
  renderLimiter(frame, previous);
  renderListeners(frame.status);
  renderPools(frame.status);
  renderEvents(frame.status);
  previous = frame;
  latest = frame;
  drawCharts(points, frame.time);
}

/** A new connection (perhaps to a new Aegis): everything is drawn afresh. */
function onHello(message) {
  failures = 0;
  points = message.history;
  previous = undefined;
  byId("login").hidden = true;
  byId("main").hidden = false;
  document.body.classList.remove("stale");
  setLink("live", "live \u00b7 every " + formatInterval(message.refresh_ms));
  show(message);
}

function onFrame(message) {
  var newest = points[points.length - 1];
  if (message.point && (!newest || message.point.time > newest.time)) points.push(message.point);
  var from = message.time - WINDOW_MS, drop = 0;
  while (drop < points.length && points[drop].time < from) drop++;
  if (drop > 0) points.splice(0, drop);
  show(message);
}

function retry(reason) {
  var delay = Math.min(retryMs * Math.pow(2, failures), MAX_RETRY_MS);
  failures++;
  document.body.classList.add("stale");
  setLink("retrying", reason + " \u00b7 retrying in " + formatInterval(delay));
  retryTimer = setTimeout(connect, delay);
}

function showLogin(message) {
  byId("main").hidden = true;
  byId("login").hidden = false;
  byId("login-error").textContent = message;
  setLink("locked", "admin token needed");
  byId("token").focus();
}

async function connect() {
  clearTimeout(retryTimer);
  setLink("connecting", "connecting\u2026");
  var headers = { accept: "text/event-stream" };
  if (token !== null) headers.authorization = "Bearer " + token;
  var response;
  try {
    response = await fetch("/stream", { headers: headers, cache: "no-store", credentials: "omit" });
  } catch (e) {
    return retry("Aegis is not answering");
  }
  if (response.status === 401) {
    response.body.cancel();
    var refused = token !== null;
    token = null;
    return showLogin(refused ? "That token was refused." : "");
  }
  if (!response.ok) {
    response.body.cancel();
    return retry(response.status === 503 ? "too many dashboards open" : "HTTP " + response.status);
  }
  var reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  var feed = eventParser(function (event, data) {
    if (event === "hello") onHello(JSON.parse(data));
    else if (event === "frame") onFrame(JSON.parse(data));
  });
  try {
    for (;;) {
      var chunk = await reader.read();
      if (chunk.done) break;
      feed(chunk.value);
    }
  } catch (e) {
    // Aegis went away mid-stream: reconnect below, as after a clean end.
  }
  retry("disconnected");
}

byId("login").addEventListener("submit", function (event) {
  event.preventDefault();
  var input = byId("token");
  token = input.value;
  // Not left in the form either.
  input.value = "";
  byId("login-error").textContent = "";
  byId("login").hidden = true;
  connect();
});

window.addEventListener("resize", function () {
  if (latest) drawCharts(points, latest.time);
});

connect();
`;
