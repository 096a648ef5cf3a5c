/**
 * The load benchmark's own parts, without wrk: option parsing, wrk report
 * parsing, the verdicts of the report, and the backend and floor processes
 * it measures against (started for real). The L4 scenarios' parts are in
 * `l4_harness_test.ts`.
 *
 * @module
 */

import assert from "node:assert/strict";
import { startBackends, startFloor } from "./_backends.ts";
import { parseOptions, TARGET_NAMES } from "./_scenarios.ts";
import { renderChecks, renderTable, type Sample, type ScenarioRuns } from "./_table.ts";
import { parseWrk } from "./_wrk.ts";
import { SCENARIOS } from "./_scenarios.ts";

Deno.test("bench options: defaults, short target names, and clear errors", () => {
  const defaults = parseOptions([])!;
  assert.deepEqual(defaults.targets, [...TARGET_NAMES]);
  assert.deepEqual(defaults.scenarios, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  assert.equal(defaults.idle, 5000);
  assert.deepEqual([defaults.udpRate, defaults.udpBytes], [50_000, 64]);

  const picked = parseOptions(["--targets", "direct,floor,h1", "--scenarios", "1,5"])!;
  assert.deepEqual(picked.targets, ["direct", "deno floor", "aegis h1"]);
  assert.deepEqual(picked.scenarios, [1, 5]);
  assert.equal(parseOptions(["--help"]), undefined);

  // Groups by name, mixed with ids, each scenario once, in the order given.
  assert.deepEqual(parseOptions(["--scenarios", "tcp,1,l4"])!.scenarios, [8, 9, 1, 10]);
  assert.deepEqual(parseOptions(["--scenarios=http"])!.scenarios, [1, 2, 3, 4, 5, 6, 7]);
  assert.deepEqual(parseOptions(["--targets", "l4,haproxy"])!.targets, ["aegis l4", "haproxy"]);
  assert.equal(parseOptions(["--udp-rate", "20000", "--udp-bytes", "512"])!.udpRate, 20_000);
  assert.throws(() => parseOptions(["--udp-bytes", "8"]), /--udp-bytes is 16 to 1400/);
  assert.throws(() => parseOptions(["--scenarios", "quic"]), /--scenarios needs/);

  assert.throws(() => parseOptions(["--targets", "envoy"]), /unknown target envoy/);
  assert.throws(() => parseOptions(["--scenarios", "11"]), /no scenario 11/);
  assert.throws(() => parseOptions(["--rounds", "-1"]), /--rounds needs/);
  assert.throws(() => parseOptions(["--fast"]), /unknown option --fast/);
});

Deno.test("bench: a wrk report with errors is read, not mistaken for a clean run", () => {
  const report = [
    "Running 5s test @ http://127.0.0.1:8080/",
    "  1 threads and 64 connections",
    "  Latency Distribution",
    "     50%  812.00us",
    "     75%    1.20ms",
    "     99%    2.50s",
    "  1000 requests in 5.00s, 100.00KB read",
    "  Socket errors: connect 1, read 2, write 0, timeout 3",
    "  Non-2xx or 3xx responses: 7",
    "Requests/sec:    200.10",
  ].join("\n");
  assert.deepEqual(parseWrk(report), {
    rps: 200.1,
    p50: 0.812,
    p99: 2500,
    socketErrors: 6,
    badStatus: 7,
  });
  assert.throws(() => parseWrk("unable to connect to 127.0.0.1:1"), /cannot parse wrk output/);
});

const sample = (rps: number, p99: number, rssMiB = 50): Sample => ({
  rps,
  p50: p99 / 2,
  p99,
  socketErrors: 0,
  badStatus: 0,
  rssKiB: rssMiB * 1024,
});

const runsOf = (id: number, byTarget: Record<string, Sample[]>): ScenarioRuns => ({
  scenario: SCENARIOS.find((s) => s.id === id)!,
  samples: new Map(Object.entries(byTarget)),
});

Deno.test("bench report: each target of the issue gets its verdict from the medians", () => {
  const runs = [
    runsOf(1, {
      direct: [sample(10_000, 1), sample(10_000, 1), sample(10_000, 1)],
      "deno floor": [sample(3_000, 2)],
      "aegis fetch": [sample(1_000, 9)],
      // Median 4,000: one fast outlier must not decide the verdict.
      "aegis h1": [sample(4_000, 3), sample(3_000, 3), sample(9_000, 3)],
    }),
    runsOf(5, {
      direct: [sample(5_000, 0.2)],
      "aegis fetch": [sample(900, 3.2)],
      "aegis h1": [sample(3_000, 0.9)],
    }),
    runsOf(7, {
      direct: [sample(10_000, 1)],
      "aegis fetch": [sample(1_000, 9, 400)],
      "aegis h1": [sample(4_000, 3, 100)],
    }),
  ];
  const checks = renderChecks(runs, 5000).split("\n");
  const about = (text: string) => checks.find((l) => l.includes(text)) ?? "";
  assert.match(about("≥ 2× fetch"), /^- \*\*PASS\*\* .*h1 4\.00× fetch; fetch 1,000 req\/s$/);
  assert.match(about("35% of direct"), /^- \*\*PASS\*\* .*h1 40%; fetch 10%; deno floor 30%$/);
  assert.match(about("≤ 0.5 ms"), /^- \*\*FAIL\*\* .*h1 \+0\.700 ms; fetch \+3\.000 ms$/);
  assert.match(about("≤ 150 MB"), /^- \*\*PASS\*\* .*h1 104\.9 MB; fetch 419\.4 MB$/);

  // Fewer idle connections than the target asks for: no verdict either way.
  assert.match(renderChecks(runs, 100), /\*\*n\/a\*\* scenario 7.*only 100 held/);

  const table = renderTable(runs, 5000);
  assert.match(table, /\| 1 \| GET c64 \| aegis h1 \| 4,000 \(0\.40×\) \|/);
});

Deno.test("bench: the backends and the deno floor proxy answer every scenario's request", async () => {
  const backends = await startBackends(3, 1);
  try {
    const floor = await startFloor(backends);
    try {
      const base = `http://127.0.0.1:${floor.port}`;
      const small = await fetch(`${base}/`);
      assert.equal(small.status, 200);
      assert.equal(await small.text(), "ok");
      const big = await fetch(`${base}/64k`);
      assert.equal((await big.bytes()).length, 64 * 1024);
      const post = await fetch(`${base}/upload`, {
        method: "POST",
        body: new Uint8Array(16 * 1024),
      });
      assert.equal(await post.text(), "ok");
      // Round-robin over the three ports on pooled connections.
      for (let i = 0; i < 6; i++) assert.equal(await (await fetch(`${base}/`)).text(), "ok");
    } finally {
      await floor.stop();
    }
  } finally {
    await backends.stop();
  }
});
