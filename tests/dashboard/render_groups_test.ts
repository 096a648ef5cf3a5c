/** The dashboard with several pools and listeners: rows grouped by pool, listeners by name. */

import assert from "node:assert/strict";
import { backend, lineWith, plain, snapshot } from "./_fixtures.ts";

Deno.test("render() groups backends by pool when there are several, naming each pool once", () => {
  const backends = [
    { ...backend(0), pool: "api" },
    { ...backend(1), pool: "api" },
    { ...backend(2), pool: "web" },
  ];
  const lines = plain(snapshot(0, { backends }), 120, 24);
  assert.match(lineWith(lines, "URL"), /^POOL +URL +HEALTH/);
  assert.match(lineWith(lines, "10.0.0.1:"), /^api +http:\/\/10\.0\.0\.1:8081 +healthy/);
  assert.match(lineWith(lines, "10.0.0.2:"), /^ +http:\/\/10\.0\.0\.2:8082 +healthy/);
  assert.match(lineWith(lines, "10.0.0.3:"), /^web +http:\/\/10\.0\.0\.3:8083 +healthy/);
});

Deno.test("render() shows no pool column for one pool, as before", () => {
  const lines = plain(snapshot(2), 120, 24);
  assert.match(lineWith(lines, "URL"), /^URL +HEALTH/);
});

Deno.test("render() names each listener in the header when there are several", () => {
  const base = snapshot(1);
  const [first] = base.listeners;
  const s = {
    ...base,
    listeners: [
      { ...first!, name: "public" },
      { ...first!, name: "internal", url: "http://127.0.0.1:8081" },
    ],
  };
  const lines = plain(s, 140, 24);
  assert.match(lines[0]!, /public http:\/\/0\.0\.0\.0:8080 · internal http:\/\/127\.0\.0\.1:8081/);
  assert.match(lineWith(lines, "Rate limiter"), /Rate limiter · public/);
});

Deno.test("render() shows tcp and udp listeners next to http ones, and their backends by address", () => {
  const base = snapshot(1);
  const [first] = base.listeners;
  const s = {
    ...base,
    listeners: [
      { ...first!, name: "web" },
      { ...first!, name: "db", protocol: "tcp" as const, url: "tcp://0.0.0.0:5432" },
      { ...first!, name: "dns", protocol: "udp" as const, url: "udp://0.0.0.0:53" },
    ],
    backends: [
      { ...backend(0), pool: "web" },
      { ...backend(1), pool: "pg", id: "10.0.1.7:5432" },
    ],
  };
  const lines = plain(s, 160, 24);
  assert.match(
    lines[0]!,
    /web http:\/\/0\.0\.0\.0:8080 · db tcp:\/\/0\.0\.0\.0:5432 · dns udp:\/\/0\.0\.0\.0:53/,
  );
  assert.match(lineWith(lines, "10.0.1.7:5432"), /^pg +10\.0\.1\.7:5432 +healthy/);
});
