/**
 * Cost of the header rewrites every proxied request pays twice: the request
 * headers sent upstream (hop-by-hop removed, forwarding headers set) and the
 * response headers sent back (hop-by-hop removed, security headers set).
 *
 * Run: `deno task bench:micro`
 *
 * @module
 */

import { clientHeaders, upstreamHeaders } from "../../src/proxy/headers.ts";
import { fieldList, type HeaderList } from "../../src/core/mod.ts";

/** A browser's GET, as `[...request.headers]` gives it (lower case, sorted). */
const REQUEST: HeaderList = [
  ["accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"],
  ["accept-encoding", "gzip, deflate, br"],
  ["accept-language", "en-US,en;q=0.5"],
  ["connection", "keep-alive"],
  ["cookie", "session=abc123; theme=dark"],
  ["host", "shop.example.com"],
  ["user-agent", "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"],
  ["x-forwarded-for", "198.51.100.4"],
];

/** A backend's 200, as the h1 transport parses it (names as sent). */
const RESPONSE: HeaderList = [
  ["Content-Type", "text/html; charset=utf-8"],
  ["Content-Length", "5120"],
  ["Cache-Control", "private, max-age=0"],
  ["Set-Cookie", "session=abc123; Path=/; HttpOnly"],
  ["Set-Cookie", "seen=1; Path=/"],
  ["Keep-Alive", "timeout=5"],
  ["Connection", "keep-alive"],
  ["X-Powered-By", "Express"],
  ["Date", "Sun, 22 Nov 2026 04:04:02 GMT"],
];

const INPUT = {
  clientIp: "203.0.113.7",
  requestId: "0b6d3c1e-8f5a-4b7e-9c2d-1a2b3c4d5e6f",
  proto: "http",
  host: "shop.example.com",
  preserveHost: true,
};

Deno.bench("upstreamHeaders(): a browser GET (8 fields)", { group: "rewrite" }, () => {
  upstreamHeaders(REQUEST, INPUT);
});

Deno.bench("clientHeaders(): a backend 200 (9 fields)", { group: "rewrite" }, () => {
  clientHeaders(RESPONSE, INPUT.requestId);
});

const HEADERS = new Headers(REQUEST);
Deno.bench(
  "upstreamHeaders() reading a Headers object instead of a list",
  { group: "rewrite" },
  () => {
    upstreamHeaders(HEADERS, INPUT);
  },
);

/** A browser's request headers as the runtime hands them over (15 fields). */
const BROWSER = new Headers([
  ...REQUEST,
  ["sec-fetch-dest", "document"],
  ["sec-fetch-mode", "navigate"],
  ["sec-fetch-site", "none"],
  ["upgrade-insecure-requests", "1"],
  ["dnt", "1"],
  ["priority", "u=0, i"],
  ["referer", "https://shop.example.com/"],
]);

Deno.bench("fieldList(): a browser's Headers (15 fields) as a list", {
  group: "snapshot",
  baseline: true,
}, () => {
  fieldList(BROWSER);
});

Deno.bench("[...headers]: the same with for…of, for comparison", { group: "snapshot" }, () => {
  [...BROWSER];
});
