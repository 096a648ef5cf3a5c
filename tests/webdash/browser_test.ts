/**
 * The web dashboard in a real browser: headless Chromium (Debian's, driven
 * by `npm:puppeteer-core`) opens the page of a real Aegis in front of real
 * backends, and the test reads what a person would see: the backends and
 * their counts after traffic it sent, the limiter, an event, charts with
 * points; the page finding a new Aegis on the same admin port by itself;
 * the token form; and a screenshot.
 *
 * Without `/usr/bin/chromium` these tests fail, saying that `.ci/run`
 * installs it: passing without having run would hide the only check that
 * the page works in a browser. What runs in the page is given as source
 * text: the type check of the tests has no DOM types.
 */

import assert from "node:assert/strict";
import type { Browser, Page } from "puppeteer-core";
import { startTestAegis, type TestAegis } from "../_helpers/aegis.ts";
import { startBackend } from "../_helpers/backend.ts";
import { decodePng, launchBrowser } from "../_helpers/browser.ts";
import { testConfig } from "../_helpers/config.ts";

const TOKEN = "s3cret-admin-token-0123456789";
const VIEWPORT = { width: 1280, height: 800 };

/** Quick frames, quick checks, no 429s for the test's own traffic, and a rate that moves. */
const SETTINGS = {
  tui: { refresh_interval: "200ms" },
  health_check: {
    interval: "200ms",
    timeout: "200ms",
    healthy_threshold: 1,
    unhealthy_threshold: 3,
  },
  rate_limit: { exempt: ["127.0.0.0/8"] },
  // Fast backends: the loop raises the rate from 100 to its bound, one event a step.
  adaptive: { evaluation_interval: "100ms", max_rate: 150 },
};

/** A tab on the dashboard, with every URL it asked for and every policy complaint. */
interface Tab {
  readonly page: Page;
  readonly requests: string[];
  readonly violations: string[];
  readonly errors: string[];
}

async function openDashboard(browser: Browser, adminUrl: string): Promise<Tab> {
  const page = await browser.newPage();
  await page.setViewport(VIEWPORT);
  const tab: Tab = { page, requests: [], violations: [], errors: [] };
  page.on("request", (r) => tab.requests.push(r.url()));
  page.on("console", (m) => {
    if (/Content.Security.Policy/i.test(m.text())) tab.violations.push(m.text());
  });
  page.on("pageerror", (e) => tab.errors.push(String(e)));
  await page.goto(`${adminUrl}/`);
  return tab;
}

/** What the backends table shows, row by row. */
function backendRows(page: Page) {
  return page.$$eval("#backends tbody tr[data-url]", (rows) =>
    rows.map((row) => ({
      url: row.getAttribute("data-url"),
      health: row.querySelector(".health")?.textContent,
      requests: Number(row.querySelector(".requests")?.textContent),
    })));
}

async function get(url: string): Promise<void> {
  const res = await fetch(url);
  await res.body?.cancel();
  assert.equal(res.status, 200);
}

Deno.test("the web dashboard shows live traffic and fills its charts, then finds a new Aegis by itself", async (t) => {
  await using chrome = await launchBrowser();
  await using a = startBackend();
  await using b = startBackend();
  await using c = startBackend();
  let first: TestAegis | undefined = startTestAegis(await testConfig([a.url, b.url], SETTINGS));
  let second: TestAegis | undefined;
  try {
    const tab = await openDashboard(chrome.browser, first.adminUrl);
    const { page } = tab;

    await t.step("it shows each backend, healthy, with the requests sent", async () => {
      // Spread over a few seconds, so the once-a-second history has several points of it.
      for (let i = 0; i < 30; i++) {
        await get(`${first!.url}/x`);
        await new Promise((r) => setTimeout(r, 100));
      }
      await page.waitForFunction(`[...document.querySelectorAll("#backends td.requests")]
        .reduce((n, cell) => n + Number(cell.textContent), 0) === 30`);
      const rows = await backendRows(page);
      assert.deepEqual(rows.map((r) => r.url), [a.url, b.url]);
      assert.deepEqual(rows.map((r) => r.health), ["healthy", "healthy"]);
      const counted = first!.aegis.snapshot().backends.map((b) => b.metrics.requests);
      assert.deepEqual(rows.map((r) => r.requests), counted, "as the snapshot counts them");
    });

    await t.step("it shows the limiter's rate and the events that moved it", async () => {
      await page.waitForFunction(
        `document.querySelector("#limiter dd.strong")?.textContent === "150.0/s"`,
      );
      assert.equal(first!.aegis.snapshot().limiter.rate, 150);
      await page.waitForSelector('#events tr[data-kind="rate"]');
      const message = await page.$eval(
        '#events tr[data-kind="rate"] .message',
        (cell) => cell.textContent,
      );
      assert.match(message ?? "", /rate .* → 150/);
    });

    await t.step("its three charts have points", async () => {
      await page.waitForFunction(`["chart-rps", "chart-errors", "chart-p95"]
        .every((id) => Number(document.getElementById(id).dataset.points) >= 2)`);
      const paths = await page.$$eval(
        ".chart path.line",
        (lines) => lines.map((l) => l.getAttribute("d") ?? ""),
      );
      assert.equal(paths.length, 3);
      for (const d of paths) assert.match(d, /^M[\d.]+,[\d.]+L/);
    });

    await t.step("a screenshot is a PNG of the viewport", async () => {
      const dir = await Deno.makeTempDir({ prefix: "aegis-screenshot-" });
      try {
        await page.screenshot({ path: `${dir}/dashboard.png` });
        const png = decodePng(await Deno.readFile(`${dir}/dashboard.png`));
        assert.deepEqual(png, VIEWPORT);
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    });

    await t.step("it reconnects by itself to the next Aegis on the same admin port", async () => {
      const port = first!.aegis.adminAddr!.port;
      await first!.aegis.shutdown();
      first = undefined;
      await page.waitForSelector('#link[data-state="retrying"]');
      second = startTestAegis(
        await testConfig([c.url], { ...SETTINGS, admin: { address: `127.0.0.1:${port}` } }),
      );
      await page.waitForFunction(
        `document.querySelector("#backends tbody tr")?.dataset.url === ${JSON.stringify(c.url)}`,
      );
      await page.waitForSelector('#link[data-state="live"]');
      const rows = await backendRows(page);
      assert.deepEqual(rows, [{ url: c.url, health: "healthy", requests: 0 }]);
    });

    await page.close();
    assert.deepEqual(tab.violations, [], "the policy blocked nothing the page needs");
    assert.deepEqual(tab.errors, []);
    const origin = new URL(second!.adminUrl).origin;
    assert.deepEqual(tab.requests.filter((u) => !u.startsWith(`${origin}/`)), [], "only its own");
  } finally {
    await first?.aegis.shutdown();
    await second?.aegis.shutdown();
  }
});

Deno.test("with an admin token the page asks for it, refuses a wrong one and keeps it out of URLs and storage", async () => {
  await using chrome = await launchBrowser();
  await using backend = startBackend();
  await using proxy = startTestAegis(
    await testConfig([backend.url], { ...SETTINGS, admin: { token: TOKEN } }),
  );
  const tab = await openDashboard(chrome.browser, proxy.adminUrl);
  const { page } = tab;
  const authorizations: string[] = [];
  page.on("request", (r) => {
    const value = r.headers()["authorization"];
    if (value) authorizations.push(`${new URL(r.url()).pathname} ${value}`);
  });

  await page.waitForSelector("#login:not([hidden])");
  assert.equal(await page.$eval("#main", (m) => m.hasAttribute("hidden")), true, "no data yet");

  await page.type("#token", "wrong-token-0123456789");
  await page.click("#login button[type=submit]");
  await page.waitForFunction(
    `document.getElementById("login-error").textContent === "That token was refused."`,
  );
  assert.equal(await page.$eval("#login", (f) => f.hasAttribute("hidden")), false);

  await page.type("#token", TOKEN);
  await page.click("#login button[type=submit]");
  await page.waitForSelector("#main:not([hidden]) #backends tbody tr[data-url]");
  assert.equal(await page.$eval("#login", (f) => f.hasAttribute("hidden")), true);
  const rows = await backendRows(page);
  assert.deepEqual(rows.map((r) => r.url), [backend.url]);

  // [SECURITY] The token went only in the stream's Authorization header.
  assert.ok(authorizations.includes(`/stream Bearer ${TOKEN}`));
  assert.deepEqual(authorizations.filter((a) => !a.startsWith("/stream ")), []);
  assert.ok(tab.requests.every((u) => !u.includes(TOKEN)), "in no URL");
  assert.ok(!page.url().includes(TOKEN));
  assert.deepEqual(await page.cookies(), [], "no cookie");
  const stored = await page.evaluate(`[
    localStorage.length,
    sessionStorage.length,
    document.cookie,
    document.getElementById("token").value,
  ]`);
  assert.deepEqual(stored, [0, 0, "", ""], "not in storage, a cookie or the form");
  assert.ok(!(await page.content()).includes(TOKEN), "not in the page");
  await page.close();
  assert.deepEqual(tab.violations, []);
  assert.deepEqual(tab.errors, []);
});
