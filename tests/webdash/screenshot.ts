/**
 * `deno task screenshot`: draws README.md's picture of the web dashboard,
 * `docs/dashboard.png`, from a demo-like scene: four demo backends (one
 * failing its health checks), Aegis in front, and a few minutes of varying
 * traffic with some slow requests and a few errors, so every panel and
 * chart has something to show. Then headless Chromium (as the browser tests
 * start it) takes the picture of the whole page.
 *
 * Options: `--seconds N` of traffic (default 180), `--out PATH`,
 * `--light` for the light theme (README's picture is the dark one).
 *
 * @module
 */

import { startAegis } from "../../src/app.ts";
import { demoHandler, startDemoBackend } from "../../src/demo/backends.ts";
import { createLogger } from "../../src/log/mod.ts";
import { launchBrowser } from "../_helpers/browser.ts";
import { parseTestConfig } from "../_helpers/config.ts";

const args = Deno.args;
const option = (name: string) => {
  const at = args.indexOf(name);
  return at >= 0 ? args[at + 1] : undefined;
};
const seconds = Number(option("--seconds") ?? 180);
const out = option("--out") ?? new URL("../../docs/dashboard.png", import.meta.url).pathname;
const dark = !args.includes("--light");

const healthy = [1, 2, 3].map((i) => startDemoBackend(`backend-${i}`, 0));
// The fourth answers requests but fails its health checks, so it turns unhealthy.
const failing = Deno.serve(
  { hostname: "127.0.0.1", port: 0, onListen() {} },
  (request) =>
    new URL(request.url).pathname === "/health"
      ? new Response("down", { status: 503 })
      : demoHandler("backend-4", request),
);
const backends = [...healthy.map((b) => b.url), `http://127.0.0.1:${failing.addr.port}`];

const aegis = startAegis(
  await parseTestConfig({
    server: { host: "127.0.0.1", port: 0 },
    backends: backends.map((url, i) => ({ url, weight: i === 2 ? 2 : 1 })),
    health_check: { interval: "2s", timeout: "1s", unhealthy_threshold: 2 },
    adaptive: { evaluation_interval: "10s" },
    rate_limit: { exempt: ["127.0.0.0/8"] },
    tui: { enabled: false },
  }),
  { logger: createLogger({ level: "error", sink: () => {} }) },
);
const proxy = `http://127.0.0.1:${aegis.addr.port}`;
const admin = `http://127.0.0.1:${aegis.adminAddr!.port}`;
console.error(`screenshot: ${seconds}s of traffic through ${proxy}; dashboard at ${admin}/`);

/** Mostly quick requests, some slow ones, a few errors. */
function path(): string {
  const r = Math.random();
  if (r < 0.015) return "/status/500";
  if (r < 0.12) return `/delay/${20 + Math.floor(Math.random() * 100)}`;
  return r < 0.5 ? "/" : "/api/items";
}

const started = performance.now();
const elapsed = () => (performance.now() - started) / 1000;
/** How many workers send at time t: a slow swell, so the charts have a shape. */
const busy = (t: number) => 3 + Math.round(3 * Math.sin(t / 25) + 2 * Math.sin(t / 7));
let running = true;
const workers = Array.from({ length: 10 }, async (_, i) => {
  while (running) {
    if (i < busy(elapsed())) {
      try {
        await (await fetch(proxy + path())).body?.cancel();
      } catch {
        // A refused or reset request is part of the scene, not a reason to stop.
      }
    }
    await new Promise((r) => setTimeout(r, 10 + Math.random() * 20));
  }
});
await new Promise((r) => setTimeout(r, seconds * 1000));

{
  // The traffic goes on while the picture is taken: the page shows it live.
  await using chrome = await launchBrowser();
  const page = await chrome.browser.newPage();
  await page.setViewport({ width: 1280, height: 900 });
  await page.emulateMediaFeatures([{
    name: "prefers-color-scheme",
    value: dark ? "dark" : "light",
  }]);
  await page.goto(`${admin}/`);
  await page.waitForSelector('#link[data-state="live"]');
  // A few frames, so the rates have a previous frame to count from.
  await new Promise((r) => setTimeout(r, 2500));
  // The whole page, as tall as it is: no scroll bar narrows it.
  const height = Number(await page.evaluate("document.documentElement.scrollHeight"));
  await page.setViewport({ width: 1280, height });
  await new Promise((r) => setTimeout(r, 1500));
  await page.screenshot({ path: out });
  await page.close();
}
running = false;
await Promise.all(workers);
console.error(`screenshot: wrote ${out}`);

await aegis.shutdown();
await Promise.all([...healthy.map((b) => b.close()), failing.shutdown()]);
