/**
 * What one access-log line costs to format: the fields the responder
 * passes for a proxied request, formatted as JSON and as text, handed to a
 * sink that drops them (the write itself is the sink's).
 *
 * Run: `deno task bench:micro`
 *
 * @module
 */

import { createLogger } from "../../src/log/mod.ts";

const json = createLogger({ level: "info", format: "json", sink: () => {} });
const text = createLogger({ level: "info", format: "text", sink: () => {} });
const FIELDS = {
  request_id: "0b6d3c1e-8f5a-4b7e-9c2d-1a2b3c4d5e6f",
  method: "GET",
  path: "/products/42",
  status: 200,
  bytes: 1234,
  duration_ms: 1.23,
  backend: "http://10.0.0.1:8080",
  listener: "default",
  pool: "default",
  client: "203.0.113.0",
};

Deno.bench("access-log line, json", { group: "access log", baseline: true }, () => {
  json.info("request", FIELDS);
});
Deno.bench("access-log line, text", { group: "access log" }, () => {
  text.info("request", FIELDS);
});
