/**
 * The web dashboard's page, served at `/`: the frame every panel is drawn
 * into by the script. No inline script or style, not even a `style`
 * attribute, so the Content-Security-Policy needs no `'unsafe-inline'`; the
 * favicon is an empty `data:` URL, so the browser asks for nothing else.
 *
 * @module
 */

/** The page's HTML. */
export const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Aegis dashboard</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/dashboard.css">
<script src="/dashboard.js" defer></script>
</head>
<body>
<header class="bar">
  <div class="brand"><span class="mark" aria-hidden="true"></span><h1 id="title">Aegis</h1><span id="draining" class="pill warn" hidden>draining</span></div>
  <div id="where" class="where"></div>
  <div id="link" class="link" data-state="connecting" role="status"><span class="dot"></span><span id="link-text">connecting…</span></div>
</header>
<form id="login" class="login panel" hidden>
  <h2>Admin token</h2>
  <p>This Aegis has an admin token. Enter it to open the dashboard: it is kept in this page only, and forgotten when the page is closed or reloaded.</p>
  <div class="row"><input id="token" type="password" autocomplete="off" spellcheck="false" aria-label="Admin token" required><button type="submit">Open</button></div>
  <p id="login-error" class="error" role="alert"></p>
</form>
<main id="main" hidden>
  <section id="figures" class="figures"></section>
  <section class="charts">
    <figure class="panel chart" id="chart-rps"><figcaption><span>Requests per second</span><b class="now"></b></figcaption><svg class="plot rps" role="img" aria-label="Requests per second over the last 15 minutes"></svg></figure>
    <figure class="panel chart" id="chart-errors"><figcaption><span>Error rate (5xx)</span><b class="now"></b></figcaption><svg class="plot errors" role="img" aria-label="Share of 5xx responses over the last 15 minutes"></svg></figure>
    <figure class="panel chart" id="chart-p95"><figcaption><span>P95 latency</span><b class="now"></b></figcaption><svg class="plot p95" role="img" aria-label="P95 latency over the last 15 minutes"></svg></figure>
  </section>
  <section class="panel">
    <h2>Backends <span id="backends-summary" class="muted"></span></h2>
    <div class="scroll"><table id="backends" class="grid"><thead></thead><tbody></tbody></table></div>
  </section>
  <div class="columns">
    <section class="panel">
      <h2 id="limiter-title">Rate limiter</h2>
      <dl id="limiter" class="fields"></dl>
    </section>
    <section class="panel">
      <h2>Listeners</h2>
      <div class="scroll"><table id="listeners" class="grid"><thead></thead><tbody></tbody></table></div>
      <h2>Pools</h2>
      <div class="scroll"><table id="pools" class="grid"><thead></thead><tbody></tbody></table></div>
    </section>
  </div>
  <section class="panel">
    <h2>Events <span id="events-summary" class="muted"></span></h2>
    <div class="scroll events"><table id="events" class="grid"><thead></thead><tbody></tbody></table></div>
  </section>
</main>
</body>
</html>
`;
