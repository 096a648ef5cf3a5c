/**
 * The web dashboard's files as a real admin listener serves them: the
 * headers that keep the page to itself, and a page that needs nothing from
 * elsewhere and runs no inline code, so the strict policy holds.
 */

import assert from "node:assert/strict";
import { DASHBOARD_CSP } from "../../src/admin/mod.ts";
import { startTestAegis } from "../_helpers/aegis.ts";
import { startBackend } from "../_helpers/backend.ts";
import { testConfig } from "../_helpers/config.ts";

const FILES = [
  ["/", "text/html; charset=utf-8"],
  ["/dashboard.js", "text/javascript; charset=utf-8"],
  ["/dashboard.css", "text/css; charset=utf-8"],
] as const;

/** Starts a one-backend Aegis and fetches each file of the dashboard, GET and HEAD. */
async function served() {
  await using backend = startBackend();
  await using proxy = startTestAegis(await testConfig([backend.url]));
  const out = new Map<string, { get: Response; text: string; head: Response; headBody: string }>();
  for (const [path] of FILES) {
    const get = await fetch(`${proxy.adminUrl}${path}`);
    const text = await get.text();
    const head = await fetch(`${proxy.adminUrl}${path}`, { method: "HEAD" });
    out.set(path, { get, text, head, headBody: await head.text() });
  }
  return out;
}

Deno.test("the dashboard's page, script and stylesheet come with a strict policy and are not cached", async () => {
  const files = await served();
  assert.doesNotMatch(DASHBOARD_CSP, /unsafe-/);
  assert.match(DASHBOARD_CSP, /default-src 'none'/);
  assert.match(DASHBOARD_CSP, /frame-ancestors 'none'/);
  for (const [path, type] of FILES) {
    const { get, head, text, headBody } = files.get(path)!;
    for (const [method, res] of [["GET", get], ["HEAD", head]] as const) {
      const what = `${method} ${path}`;
      assert.equal(res.status, 200, what);
      assert.equal(res.headers.get("content-type"), type, what);
      assert.equal(res.headers.get("content-security-policy"), DASHBOARD_CSP, what);
      assert.equal(res.headers.get("x-content-type-options"), "nosniff", what);
      assert.equal(res.headers.get("referrer-policy"), "no-referrer", what);
      assert.equal(res.headers.get("cache-control"), "no-store", what);
    }
    assert.ok(text.length > 500, `${path} has content`);
    assert.equal(headBody, "", `HEAD ${path} has no body`);
  }
});

Deno.test("the page loads only its own files and runs no inline code", async () => {
  const files = await served();
  const page = files.get("/")!.text;
  const links = [...page.matchAll(/\b(?:src|href)="([^"]*)"/g)].map((m) => m[1]);
  assert.deepEqual(links.sort(), ["/dashboard.css", "/dashboard.js", "data:,"]);
  assert.deepEqual(
    [...page.matchAll(/<script\b[^>]*>/g)].map((m) => m[0]),
    ['<script src="/dashboard.js" defer>'],
    "one script, loaded from its own file",
  );
  assert.doesNotMatch(page, /<style\b|\sstyle="|\son[a-z]+="/i, "no inline style or handler");

  const script = files.get("/dashboard.js")!.text;
  // Throws on a syntax error: Deno never runs this script, a browser does.
  new Function(script);
  assert.match(script, /fetch\("\/stream"/);
  // [SECURITY] The token goes in a header, nowhere else the browser keeps things.
  assert.doesNotMatch(script, /localStorage|sessionStorage|document\.cookie|indexedDB/);

  // The one absolute URL is SVG's namespace, a name rather than a place.
  const urls = [...files.values()].flatMap(({ text }) =>
    [...text.matchAll(/\b(?:https?:)?\/\/[a-z0-9.-]+\.[a-z]{2,}[^\s"')]*/gi)].map((m) => m[0])
  );
  assert.deepEqual([...new Set(urls)], ["http://www.w3.org/2000/svg"]);
});
