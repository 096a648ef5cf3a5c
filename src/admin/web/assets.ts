/**
 * The web dashboard's files as the admin listener serves them: the page at
 * `/`, its script and its stylesheet, each with a strict
 * Content-Security-Policy and headers that keep the page to itself.
 *
 * The files hold no data (the data comes from `GET /stream`), so they need
 * no token; they are the same for every Aegis of a version, and are never
 * cached, so a page always runs the script of the Aegis it talks to.
 *
 * @module
 */

import { PAGE } from "./page.ts";
import { SCRIPT } from "./script.ts";
import { STYLE } from "./style.ts";

/**
 * The page's Content-Security-Policy: its own script, stylesheet and
 * stream, nothing inline, nothing from elsewhere (so it works offline and
 * leaks nothing), no framing, no form submissions, no `<base>`.
 */
export const DASHBOARD_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

/** One file of the web dashboard. */
export interface WebAsset {
  /** Where it is served, matched exactly. */
  readonly path: string;
  readonly contentType: string;
  readonly body: string;
}

/** Every file of the web dashboard. */
export const ASSETS: readonly WebAsset[] = [
  { path: "/", contentType: "text/html; charset=utf-8", body: PAGE },
  { path: "/dashboard.js", contentType: "text/javascript; charset=utf-8", body: SCRIPT },
  { path: "/dashboard.css", contentType: "text/css; charset=utf-8", body: STYLE },
];

/** A file of the web dashboard, with its headers. */
export function assetResponse(asset: WebAsset): Response {
  return new Response(asset.body, {
    headers: {
      "content-type": asset.contentType,
      // [SECURITY] Script injection and clickjacking: only the page's own
      // files run, nothing inline, and no other site may frame it.
      "content-security-policy": DASHBOARD_CSP,
      // [SECURITY] MIME sniffing: each file is only what its type says.
      "x-content-type-options": "nosniff",
      // [SECURITY] The admin address does not leak to links followed from the page.
      "referrer-policy": "no-referrer",
      "cache-control": "no-store",
    },
  });
}
