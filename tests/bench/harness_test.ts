/**
 * The load benchmark's own parts, without wrk: option parsing, wrk report
 * and `/proc/PID/stat` parsing, the verdicts of the report, every Aegis
 * target's configuration (checked by the real `aegis check`), and the
 * backend and floor processes it measures against, streaming included
 * (started for real). The L4 scenarios' parts are in `l4_harness_test.ts`.
 *
 * @module
 */

import assert from "node:assert/strict";
import { aegisCheck, aegisConfig } from "./_aegis.ts";
import { startBackends, startFloor } from "./_backends.ts";
import { SECURITY_HEADERS } from "../../src/proxy/headers.ts";
import { cpuTicksOf } from "./_cpu.ts";
import { makeTempDir } from "./_procs.ts";
import { parseOptions, SCENARIOS, TARGET_NAMES } from "./_scenarios.ts";
import { streamThrough } from "./_stream.ts";
import { renderStreamTable, type StreamRuns, type Transfer } from "./_stream_table.ts";
import { renderChecks, renderTable, type Sample, type ScenarioRuns } from "./_table.ts";
import { AEGIS_TARGETS, aegisOptionsFor } from "./_targets.ts";
import { parseWrk } from "./_wrk.ts";

Deno.test("bench options: defaults, short target names, and clear errors", () => {
  const defaults = parseOptions([])!;
  assert.deepEqual(defaults.targets, [...TARGET_NAMES]);
  assert.deepEqual(defaults.scenarios, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
  assert.equal(defaults.streamMiB, 512);
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
  assert.throws(() => parseOptions(["--scenarios", "12"]), /no scenario 12/);
  assert.throws(() => parseOptions(["--rounds", "-1"]), /--rounds needs/);
  assert.throws(() => parseOptions(["--fast"]), /unknown option --fast/);
});

Deno.test("bench options: the access-log target and the streaming scenario", () => {
  const picked = parseOptions(["--targets", "h1,h1log,aegis h1 log", "--scenarios", "stream,1"])!;
  assert.deepEqual(picked.targets, ["aegis h1", "aegis h1 log", "aegis h1 log"]);
  assert.deepEqual(picked.scenarios, [11, 1]);
  // `http` stays the wrk scenarios; the streaming one is its own group.
  assert.deepEqual(parseOptions(["--scenarios", "http"])!.scenarios, [1, 2, 3, 4, 5, 6, 7]);
  assert.equal(parseOptions(["--stream-mib", "64"])!.streamMiB, 64);
  assert.equal(parseOptions(["--stream-mib=0"])!.streamMiB, 1);
  assert.throws(() => parseOptions(["--stream-mib", "lots"]), /--stream-mib needs a whole number/);
  assert.throws(() => parseOptions(["--targets", "h1-log"]), /unknown target h1-log/);
});

Deno.test("bench: CPU ticks are utime + stime of a /proc/PID/stat line, whatever the command name", () => {
  const rest = "S 1 42 42 0 -1 4194560 900 0 0 0 250 30 7 9 20 0 5 0 3029013 3133440 413";
  assert.equal(cpuTicksOf(`42 (deno) ${rest}`), 280);
  // The name is the kernel's, up to 15 bytes, and may hold spaces and parentheses.
  assert.equal(cpuTicksOf(`43 (a) b (c) ${rest}\n`), 280);
  assert.throws(
    () => cpuTicksOf("cat: /proc/9/stat: No such file"),
    /not a \/proc\/PID\/stat line/,
  );
  assert.throws(() => cpuTicksOf("44 (deno) S 1 2"), /no utime and stime/);
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
    requests: 1000,
    p50: 0.812,
    p99: 2500,
    socketErrors: 6,
    badStatus: 7,
  });
  assert.throws(() => parseWrk("unable to connect to 127.0.0.1:1"), /cannot parse wrk output/);
});

/** A 5 s run at `rps` costing `cpuUs` of CPU per request. */
const sample = (rps: number, p99: number, rssMiB = 50, cpuUs = 100, idleHeld = 0): Sample => ({
  rps,
  requests: rps * 5,
  p50: p99 / 2,
  p99,
  socketErrors: 0,
  badStatus: 0,
  rssKiB: rssMiB * 1024,
  cpuSeconds: (rps * 5 * cpuUs) / 1e6,
  idleHeld,
});

const runsOf = (id: number, byTarget: Record<string, Sample[]>): ScenarioRuns => ({
  scenario: SCENARIOS.find((s) => s.id === id)!,
  samples: new Map(Object.entries(byTarget)),
});

const moved = (raisedMiB: number, error?: string): Transfer => ({
  seconds: 2,
  rssRaisedKiB: raisedMiB * 1024,
  error,
});

/** Scenario 11's rounds: per target, per round, the rise in MiB down, up and up chunked. */
const streamOf = (
  mib: number,
  byTarget: Record<string, [number, number, number][]>,
): StreamRuns => ({
  scenario: SCENARIOS.find((s) => s.stream)!,
  mib,
  samples: new Map(
    Object.entries(byTarget).map((
      [t, list],
    ) => [
      t,
      list.map(([down, up, chunked]) => ({
        down: moved(down),
        up: moved(up),
        chunked: moved(chunked),
      })),
    ]),
  ),
});

Deno.test("bench report: each target of the issue gets its verdict from the medians", () => {
  const runs = [
    runsOf(1, {
      direct: [sample(10_000, 1, 50, 10), sample(10_000, 1, 50, 10), sample(10_000, 1, 50, 10)],
      "deno floor": [sample(5_000, 2, 100, 75)],
      "aegis fetch": [sample(1_000, 9, 250, 250)],
      // Median 4,000 req/s and 104 µs: one fast, cheap outlier must not decide the verdict.
      "aegis h1": [
        sample(4_000, 3, 110, 104),
        sample(3_000, 3, 110, 120),
        sample(9_000, 3, 110, 50),
      ],
      "aegis h1 log": [sample(3_600, 3, 110, 115)],
    }),
    runsOf(5, {
      direct: [sample(5_000, 0.2)],
      "aegis fetch": [sample(900, 3.2)],
      "aegis h1": [sample(3_000, 0.9)],
    }),
    runsOf(7, {
      direct: [sample(10_000, 1, 50, 10, 5000)],
      "aegis fetch": [sample(1_000, 9, 400, 250, 5000)],
      "aegis h1": [sample(4_000, 3, 100, 100, 5000)],
    }),
  ];
  const stream = streamOf(512, {
    "aegis h1": [[3, 20, 4], [2, 31, 5]],
    "aegis fetch": [[40, 3, 6]],
  });
  const checks = renderChecks(runs, 5000, stream).split("\n");
  const about = (text: string) => checks.find((l) => l.includes(text)) ?? "";
  assert.match(
    about("requests per second ≥ 0.75×"),
    /^- \*\*PASS\*\* .*: h1 0\.80× \(4,000 req\/s vs 5,000 req\/s\); fetch 0\.20× /,
  );
  assert.match(
    about("CPU per request ≤ 1.35×"),
    /^- \*\*FAIL\*\* .*: h1 1\.39× \(104 µs vs 75 µs\)/,
  );
  assert.match(
    about("peak RSS ≤ 1.2×"),
    /^- \*\*PASS\*\* .*: h1 1\.10× \(110\.0 MiB vs 100\.0 MiB\)/,
  );
  assert.match(about("≤ 0.5 ms"), /^- \*\*FAIL\*\* .*h1 \+0\.700 ms; fetch \+3\.000 ms$/);
  assert.match(about("≤ 150 MB"), /^- \*\*PASS\*\* .*h1 104\.9 MB; fetch 419\.4 MB$/);
  // The worst round counts: 31 MiB up is still within 32.
  assert.match(
    about("streamed each way"),
    /^- \*\*PASS\*\* .*h1 down \+3\.0 MiB, up \+31\.0 MiB, up chunked \+5\.0 MiB; fetch down \+40\.0 MiB, up \+3\.0 MiB, up chunked \+6\.0 MiB$/,
  );
  assert.match(
    about("cost of access logs"),
    /^- \*\*info\*\* .*0\.90× the req\/s \(3,600 vs 4,000\), \+11 µs CPU\/req \(115 µs vs 104 µs\)$/,
  );

  // Fewer idle connections than the target asks for: no verdict either way.
  assert.match(renderChecks(runs, 100), /\*\*n\/a\*\* scenario 7.*only 100 held/);
  // Without the floor, the streaming scenario or the log target: n/a, not a guess.
  const alone = renderChecks([runsOf(1, { "aegis h1": [sample(4_000, 3)] })], 5000);
  assert.match(alone, /\*\*n\/a\*\* scenario 1, requests per second .*: h1 n\/a$/m);
  assert.match(alone, /\*\*n\/a\*\* scenario 11, .*: h1 n\/a$/m);
  assert.match(alone, /\*\*info\*\* .*access logs.*: n\/a$/m);

  const table = renderTable(runs, 5000);
  assert.match(table, /\| 1 \| GET c64 \| aegis h1 \| 4,000 \(0\.40×\) \|/);
  // CPU per request: a proxy's against the floor's; direct's and the floor's alone.
  assert.match(table, /\| aegis h1 \| .* \| 104 µs \(1\.39× floor\) \| 0 \|/);
  assert.match(table, /\| direct \| .* \| 10 µs \| 0 \|/);
  assert.match(table, /\| deno floor \| .* \| 75 µs \| 0 \|/);
});

Deno.test("bench report: scenario 7 fails a target that refused idle connections", () => {
  const runs = [runsOf(7, { "aegis h1": [sample(4_000, 3, 100, 100, 2429)] })];
  assert.match(
    renderChecks(runs, 5000),
    /- \*\*FAIL\*\* scenario 7, .*: h1 104\.9 MB, held only 2,429 idle$/m,
  );
});

Deno.test("bench report: scenario 11 fails on a rise over 32 MiB or a broken transfer, and judges only 512 MiB", () => {
  const checks = (stream: StreamRuns) =>
    renderChecks([], 5000, stream).split("\n").find((l) => l.includes("scenario 11"));
  assert.match(
    checks(streamOf(512, { "aegis h1": [[2, 3, 33]] }))!,
    /^- \*\*FAIL\*\* .*up chunked \+33\.0 MiB$/,
  );
  assert.match(
    checks(streamOf(64, { "aegis h1": [[2, 3, 3]] }))!,
    /^- \*\*n\/a\*\* .*only 64 MiB/,
  );
  const broken: StreamRuns = {
    ...streamOf(512, {}),
    samples: new Map([["aegis h1", [{
      down: moved(1),
      up: moved(1, "curl up: status 413"),
      chunked: moved(2),
    }]]]),
  };
  assert.match(checks(broken)!, /^- \*\*FAIL\*\* .*\(1 transfer\(s\) failed\)$/);
  assert.match(
    renderStreamTable(broken),
    /\| 11 \| stream 512 MiB \| aegis h1 \| \+1\.0 MiB \| 256 \| \+1\.0 MiB \| 0 \| \+2\.0 MiB \| 256 \| 1 \|/,
  );
});

Deno.test("bench: aegis check accepts every Aegis target's configuration, scenario 11's too", async () => {
  const dir = await makeTempDir();
  try {
    const opts = parseOptions([])!;
    const [small, stream] = [SCENARIOS[0]!, SCENARIOS.find((s) => s.stream)!];
    for (const target of AEGIS_TARGETS) {
      for (const scenario of [small, stream]) {
        const path = `${dir}/check.yml`;
        const config = aegisConfig(8080, [8081], aegisOptionsFor(target, scenario, opts));
        assert.equal(/max_body_bytes: 536870912$/m.test(config), scenario === stream);
        await Deno.writeTextFile(path, config);
        assert.equal(await aegisCheck(path), undefined, `${target.name}, scenario ${scenario.id}`);
      }
    }
    const logged = aegisConfig(8080, [8081], { accessLogs: true, server: { workers: 2 } });
    assert.match(logged, /^ {2}max_connections: 20000$/m);
    assert.match(logged, /^ {2}workers: 2$/m);
    assert.match(logged, /^ {2}level: info$/m);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
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

Deno.test("bench: the header-relaying floor passes the request's fields on and answers with Aegis's", async () => {
  // A backend that echoes the request head it got.
  await using echo = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    (req) =>
      new Response(JSON.stringify(Object.fromEntries(req.headers)), {
        headers: { "content-type": "application/json", "x-from-backend": "yes" },
      }),
  );
  const floor = await startFloor(
    { ports: [echo.addr.port], pidOf: () => 0, stop: async () => {} },
    true,
  );
  try {
    const res = await fetch(`http://127.0.0.1:${floor.port}/`, { headers: { "x-client": "one" } });
    const seen = await res.json() as Record<string, string>;
    assert.equal(seen["x-client"], "one");
    assert.equal(seen["x-forwarded-for"], "127.0.0.1");
    assert.match(seen["x-request-id"] ?? "", /^[0-9a-f-]{36}$/);
    assert.equal(res.headers.get("x-from-backend"), "yes");
    assert.equal(res.headers.get("x-request-id"), seen["x-request-id"]);
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) {
      assert.equal(res.headers.get(name), value, name);
    }
  } finally {
    await floor.stop();
  }
});

Deno.test("bench: curl streams a body down from the backend and up to it, with a length and chunked", async () => {
  const backends = await startBackends(1, 1);
  try {
    const port = backends.ports[0]!;
    // Not a multiple of the 64 KiB chunk: the last one is cut short.
    await streamThrough(port, "down", 3 * 65_536 + 100);
    await streamThrough(port, "down", 0);
    await streamThrough(port, "up", 5 * 65_536 + 7);
    await streamThrough(port, "chunked", 5 * 65_536 + 7);
    await assert.rejects(() => streamThrough(port, "down", -1), /curl down: status 400/);
    await assert.rejects(() => streamThrough(1, "up", 10), /curl up: status 0 curl: \(7\)/);
  } finally {
    await backends.stop();
  }
});
