/**
 * `/metrics` rendering: checked by the real Prometheus parser (`promtool
 * check metrics`, when installed) and, always, by a strict reader of the
 * 0.0.4 text format written here.
 */

import assert from "node:assert/strict";
import { PROMETHEUS_CONTENT_TYPE, renderPrometheus } from "../../src/admin/prometheus.ts";
import { DURATION_BUCKETS, type HistogramSeries } from "../../src/metrics/mod.ts";
import type { BackendSnapshot, Snapshot } from "../../src/snapshot/mod.ts";

// CI installs promtool (Debian's `prometheus` package); elsewhere its test is skipped, not failed.
const hasPromtool = await (async () => {
  try {
    const out = await new Deno.Command("promtool", {
      args: ["--version"],
      stdout: "null",
      stderr: "null",
    }).output();
    return out.success;
  } catch {
    return false; // not on PATH, or no --allow-run
  }
})();
/** Deno prints no reason for an ignored test, so the name carries it. */
const NEEDS_PROMTOOL = hasPromtool
  ? ""
  : " (ignored: promtool not on PATH or --allow-run not granted)";

/**
 * Lint findings promtool reports on purpose: names the seed mandates
 * verbatim. promtool exits 3 for lint findings, 1 for a parse error.
 */
const KNOWN_LINT = new Set([
  "proxy_latency_avg_ms metric names should not contain abbreviated units",
  "proxy_latency_p99_ms metric names should not contain abbreviated units",
  'proxy_total_connections counter metrics should have "_total" suffix',
]);

/** A backend id with every character a label value must escape. */
const NASTY_ID = 'http://b"ad\\host:9002/x\ny';

/** Cumulative counts from per-bucket counts (the last entry is the +Inf bucket). */
function histogram(
  backend: string,
  statusClass: HistogramSeries["statusClass"],
  perBucket: number[],
  sum: number,
): HistogramSeries {
  assert.equal(perBucket.length, DURATION_BUCKETS.length + 1);
  let running = 0;
  const cumulative = perBucket.map((c) => (running += c));
  return {
    listener: "default",
    pool: backend === "-" ? "-" : "default",
    backend,
    statusClass,
    cumulative,
    sum,
    count: running,
  };
}

function backend(
  id: string,
  over: Partial<Omit<BackendSnapshot, "id">> = {},
): BackendSnapshot {
  return {
    pool: "default",
    id,
    weight: 2,
    effectiveWeight: 2,
    health: "healthy",
    warmupPercent: 100,
    available: true,
    breaker: {
      state: "closed",
      consecutiveFailures: 0,
      halfOpenInFlight: 0,
      halfOpenSuccesses: 0,
      openedAt: null,
      opens: 0,
    },
    metrics: {
      requests: 1200,
      errors: 3,
      inFlight: 4,
      bytesIn: 98_765,
      bytesOut: 1234,
      latency: { count: 100, p50: 15, p95: 40, p99: 80, mean: 20, max: 95 },
    },
    ...over,
  };
}

const LIMITER: Snapshot["limiter"] = {
  rate: 87.5,
  minRate: 10,
  maxRate: 500,
  burst: 150,
  trackedClients: 12,
  maxClients: 100_000,
  evictions: 6,
  lastChange: null,
};

const TRAFFIC: Snapshot["global"] = {
  requests: 1500,
  responses: { "1xx": 1, "2xx": 1400, "3xx": 20, "4xx": 60, "5xx": 19 },
  rateLimited: 40,
  rejects: { body_too_large: 2, method_not_allowed: 3 },
  activeConnections: 7,
  totalConnections: 321,
  bytesIn: 4096,
  bytesOut: 1_048_576,
};

const CONNECTIONS: Snapshot["connections"] = {
  maxConnections: 18_000,
  maxConnectionsPerClient: 256,
  rejected: { max_connections: 12, per_client: 34, denied: 0, rate_limited: 0 },
  acceptErrors: 5,
};

/** One listener, `default`, whose figures are the whole proxy's. */
const SNAPSHOT: Snapshot = {
  time: 1_700_000_000_000,
  uptimeMs: 5500,
  version: "0.1.0",
  listen: "http://0.0.0.0:8080",
  listeners: [{
    protocol: "http",
    udp: null,
    name: "default",
    url: "http://0.0.0.0:8080",
    pools: ["default"],
    healthyP95: 40,
    limiter: LIMITER,
    traffic: TRAFFIC,
    connections: { ...CONNECTIONS, active: 7, total: 321 },
  }],
  global: TRAFFIC,
  connections: CONNECTIONS,
  durations: [
    histogram("http://10.0.0.1:9001", "1xx", [0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0], 0.07),
    histogram("http://10.0.0.1:9001", "2xx", [300, 500, 400, 150, 40, 10, 0, 0, 0, 0, 0, 0], 19.25),
    histogram("http://10.0.0.1:9001", "3xx", [20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], 0.04),
    histogram("-", "4xx", [45, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], 0.01),
    histogram(NASTY_ID, "4xx", [0, 5, 5, 5, 0, 0, 0, 0, 0, 0, 0, 0], 0.4),
    histogram(NASTY_ID, "5xx", [0, 0, 0, 0, 0, 0, 0, 4, 5, 5, 3, 2], 121.5),
  ],
  backends: [
    backend("http://10.0.0.1:9001"),
    backend(NASTY_ID, {
      weight: 1,
      effectiveWeight: 0,
      health: "unhealthy",
      warmupPercent: 30,
      available: false,
      breaker: {
        state: "open",
        consecutiveFailures: 5,
        halfOpenInFlight: 0,
        halfOpenSuccesses: 0,
        openedAt: 12_345,
        opens: 2,
      },
      metrics: {
        requests: 300,
        errors: 19,
        inFlight: 0,
        bytesIn: 10,
        bytesOut: 20,
        latency: { count: 50, p50: 150, p95: 700, p99: 900, mean: 200, max: 950 },
      },
    }),
  ],
  healthyP95: 40,
  limiter: LIMITER,
  websocket: {
    open: [{ listener: "default", pool: "default", open: 2 }],
    pools: [{ pool: "default", sessions: 5, bytesToBackend: 100, bytesToClient: 300 }],
  },
  events: [],
};

// --- A strict reader of the 0.0.4 text format, enough to check our output. ---

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
// Go's ParseFloat syntax as the format allows it, no timestamp.
const VALUE = /^(?:[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?|[+-]Inf|NaN)$/;

interface ParsedSample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
  /** The value as written. */
  readonly raw: string;
}

interface ParsedFamily {
  readonly type: string;
  readonly help: string;
  readonly samples: ParsedSample[];
}

/** Reads `{a="x",b="y"}` from `line` at `start`; returns the labels and where they end. */
function readLabels(line: string, start: number): [Record<string, string>, number] {
  const labels: Record<string, string> = {};
  let i = start + 1;
  while (line[i] !== "}") {
    const eq = line.indexOf("=", i);
    assert.ok(eq > i, `label name expected: ${line}`);
    const name = line.slice(i, eq);
    assert.match(name, LABEL_NAME, line);
    assert.ok(!(name in labels), `label ${name} twice: ${line}`);
    assert.equal(line[eq + 1], '"', `quoted label value expected: ${line}`);
    let value = "";
    for (i = eq + 2; line[i] !== '"'; i++) {
      assert.ok(i < line.length, `unterminated label value: ${line}`);
      if (line[i] !== "\\") {
        value += line[i];
        continue;
      }
      const escaped = line[++i];
      const unescaped = escaped === "n" ? "\n" : escaped === "\\" || escaped === '"' ? escaped : "";
      assert.ok(unescaped, `invalid escape \\${escaped}: ${line}`);
      value += unescaped;
    }
    labels[name] = value;
    i++;
    if (line[i] === ",") i++;
    else assert.equal(line[i], "}", `, or } expected: ${line}`);
  }
  return [labels, i + 1];
}

function parseSample(line: string): ParsedSample {
  const brace = line.indexOf("{");
  const space = line.indexOf(" ");
  const nameEnd = brace >= 0 && brace < space ? brace : space;
  const name = line.slice(0, nameEnd);
  assert.match(name, METRIC_NAME, line);
  const [labels, end] = nameEnd === brace ? readLabels(line, brace) : [{}, nameEnd];
  assert.equal(line[end], " ", `one space before the value: ${line}`);
  const raw = line.slice(end + 1);
  assert.match(raw, VALUE, line);
  const value = raw === "+Inf" ? Infinity : raw === "-Inf" ? -Infinity : Number(raw);
  return { name, labels, value, raw };
}

/**
 * Parses `text`, failing on anything the format forbids or we promise not
 * to do: a sample before its family's HELP and TYPE, a family split in two,
 * a repeated series.
 */
function parse(text: string): Map<string, ParsedFamily> {
  assert.ok(text.endsWith("\n"), "ends with a newline");
  const families = new Map<string, ParsedFamily>();
  const series = new Set<string>();
  let current: (ParsedFamily & { name: string }) | undefined;
  let pendingHelp: [string, string] | undefined;
  for (const line of text.slice(0, -1).split("\n")) {
    const comment = /^# (HELP|TYPE) (\S+) (.*)$/.exec(line);
    if (comment) {
      const [, kind, name, rest] = comment as unknown as [string, string, string, string];
      assert.match(name, METRIC_NAME, line);
      assert.ok(!families.has(name), `family ${name} appears twice`);
      if (kind === "HELP") {
        assert.equal(pendingHelp, undefined, `HELP without TYPE before: ${line}`);
        pendingHelp = [name, rest];
        continue;
      }
      assert.deepEqual(pendingHelp?.[0], name, `TYPE ${name} must follow its HELP`);
      assert.match(rest, /^(counter|gauge|histogram|summary|untyped)$/, line);
      current = { name, type: rest, help: pendingHelp![1], samples: [] };
      families.set(name, current);
      pendingHelp = undefined;
      continue;
    }
    assert.ok(!line.startsWith("#") && line.trim() === line && line, `unexpected line: ${line}`);
    assert.equal(pendingHelp, undefined, `HELP without TYPE before: ${line}`);
    const sample = parseSample(line);
    assert.ok(current, `sample before any TYPE: ${line}`);
    const suffixes = current.type === "histogram" ? ["_bucket", "_sum", "_count"] : [""];
    assert.ok(
      suffixes.some((s) => sample.name === current!.name + s),
      `${sample.name} sample inside family ${current.name}`,
    );
    const key = sample.name + JSON.stringify(Object.entries(sample.labels).sort());
    assert.ok(!series.has(key), `duplicate series ${line}`);
    series.add(key);
    current.samples.push(sample);
  }
  assert.equal(pendingHelp, undefined, "HELP without TYPE at the end");
  for (const [name, f] of families) assert.ok(f.samples.length > 0, `${name} has no samples`);
  return families;
}

/** The value of the one sample of `family` whose labels include `labels`. */
function value(
  families: Map<string, ParsedFamily>,
  family: string,
  labels: Record<string, string> = {},
  name = family,
): number {
  const f = families.get(family);
  assert.ok(f, `family ${family} missing`);
  const hits = f.samples.filter((s) =>
    s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)
  );
  assert.equal(hits.length, 1, `${name}${JSON.stringify(labels)}: ${hits.length} samples`);
  return hits[0]!.value;
}

// --- Tests. ---

Deno.test({
  name: "renderPrometheus() output passes `promtool check metrics` with only the known lint" +
    NEEDS_PROMTOOL,
  ignore: !hasPromtool,
  permissions: { run: ["promtool"] },
  async fn() {
    const { code, messages } = await promtool(renderPrometheus(SNAPSHOT, { draining: true }));
    const unknown = messages.filter((m) => !KNOWN_LINT.has(m));
    assert.deepEqual(unknown, [], `promtool exited ${code}:\n${messages.join("\n")}`);
    assert.equal(code, messages.length === 0 ? 0 : 3, "0 when clean, 3 for lint findings only");
  },
});

Deno.test({
  name: "promtool check metrics fails on a parse error, so the check above means something" +
    NEEDS_PROMTOOL,
  ignore: !hasPromtool,
  permissions: { run: ["promtool"] },
  async fn() {
    const broken = renderPrometheus(SNAPSHOT).replace('backend="http', 'backend="\\q');
    const { code, messages } = await promtool(broken);
    assert.equal(code, 1, messages.join("\n"));
    assert.ok(messages.some((m) => m.includes("parsing error")), messages.join("\n"));
  },
});

async function promtool(text: string): Promise<{ code: number; messages: string[] }> {
  const child = new Deno.Command("promtool", {
    args: ["check", "metrics"],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(text));
  await writer.close();
  const { code, stdout, stderr } = await child.output();
  const messages = new TextDecoder().decode(stdout) + "\n" + new TextDecoder().decode(stderr);
  return { code, messages: messages.split("\n").map((m) => m.trim()).filter((m) => m !== "") };
}

Deno.test(
  "renderPrometheus() writes well-formed 0.0.4 text",
  { permissions: "none" },
  async (t) => {
    const text = renderPrometheus(SNAPSHOT);
    const families = parse(text);

    await t.step("the content type names format 0.0.4", () => {
      assert.equal(PROMETHEUS_CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8");
    });

    await t.step("every family has HELP and TYPE and its expected type", () => {
      const types = Object.fromEntries([...families].map(([name, f]) => [name, f.type]));
      assert.deepEqual(types, {
        proxy_active_connections: "gauge",
        proxy_total_connections: "counter",
        proxy_bytes_sent_total: "counter",
        proxy_bytes_received_total: "counter",
        proxy_latency_avg_ms: "gauge",
        proxy_latency_p99_ms: "gauge",
        proxy_backend_connections: "gauge",
        proxy_backend_requests_total: "counter",
        proxy_backend_failures_total: "counter",
        proxy_requests_total: "counter",
        proxy_responses_total: "counter",
        proxy_request_duration_seconds: "histogram",
        proxy_rate_limited_total: "counter",
        proxy_requests_rejected_total: "counter",
        proxy_connections_rejected_total: "counter",
        proxy_accept_errors_total: "counter",
        proxy_max_connections: "gauge",
        proxy_max_connections_per_client: "gauge",
        proxy_backend_up: "gauge",
        proxy_backend_available: "gauge",
        proxy_backend_circuit_state: "gauge",
        proxy_backend_circuit_opens_total: "counter",
        proxy_backend_warmup_ratio: "gauge",
        proxy_backend_weight: "gauge",
        proxy_backend_latency_seconds: "gauge",
        proxy_backend_bytes_sent_total: "counter",
        proxy_backend_bytes_received_total: "counter",
        proxy_rate_limit_rate: "gauge",
        proxy_rate_limit_tracked_clients: "gauge",
        proxy_rate_limit_evictions_total: "counter",
        proxy_websocket_connections: "gauge",
        proxy_websocket_sessions_total: "counter",
        proxy_websocket_bytes_total: "counter",
        proxy_uptime_seconds: "gauge",
        proxy_info: "gauge",
        proxy_draining: "gauge",
      });
      for (const [name, f] of families) assert.ok(f.help.length > 0, `${name} HELP is empty`);
    });

    await t.step("the seed's metrics carry the snapshot's figures", () => {
      const a = { backend: "http://10.0.0.1:9001" };
      const b = { backend: NASTY_ID };
      assert.equal(value(families, "proxy_active_connections"), 7);
      assert.equal(value(families, "proxy_total_connections"), 321);
      assert.equal(value(families, "proxy_bytes_sent_total"), 1_048_576);
      assert.equal(value(families, "proxy_bytes_received_total"), 4096);
      // (20 ms × 100 samples + 200 ms × 50 samples) / 150 samples
      assert.equal(value(families, "proxy_latency_avg_ms"), 80);
      assert.equal(value(families, "proxy_latency_p99_ms"), 900, "highest backend P99");
      assert.equal(value(families, "proxy_backend_connections", a), 4);
      assert.equal(value(families, "proxy_backend_connections", b), 0);
      assert.equal(value(families, "proxy_backend_requests_total", a), 1200);
      assert.equal(value(families, "proxy_backend_failures_total", b), 19);
    });

    await t.step("proxy-wide and per-backend figures", () => {
      const b = { backend: NASTY_ID };
      assert.equal(value(families, "proxy_requests_total"), 1500);
      assert.deepEqual(
        families.get("proxy_responses_total")!.samples.map((s) => [s.labels.status_class, s.value]),
        [["1xx", 1], ["2xx", 1400], ["3xx", 20], ["4xx", 60], ["5xx", 19]],
      );
      assert.equal(value(families, "proxy_rate_limited_total"), 40);
      assert.deepEqual(
        families.get("proxy_requests_rejected_total")!.samples.map((
          s,
        ) => [s.labels.reason, s.value]),
        [["body_too_large", 2], ["method_not_allowed", 3]],
      );
      assert.deepEqual(
        families.get("proxy_connections_rejected_total")!.samples.map((
          s,
        ) => [s.labels.reason, s.value]),
        [["max_connections", 12], ["per_client", 34], ["denied", 0], ["rate_limited", 0]],
      );
      assert.equal(value(families, "proxy_accept_errors_total"), 5);
      assert.equal(value(families, "proxy_max_connections"), 18_000);
      assert.equal(value(families, "proxy_max_connections_per_client"), 256);
      assert.equal(value(families, "proxy_backend_up", b), 0);
      assert.equal(value(families, "proxy_backend_available", b), 0);
      assert.equal(value(families, "proxy_backend_circuit_opens_total", b), 2);
      assert.equal(value(families, "proxy_backend_warmup_ratio", b), 0.3);
      assert.equal(value(families, "proxy_backend_weight", b), 0);
      assert.deepEqual(
        families.get("proxy_backend_latency_seconds")!.samples
          .filter((s) => s.labels.backend === NASTY_ID)
          .map((s) => [s.labels.percentile, s.value]),
        [["0.5", 0.15], ["0.95", 0.7], ["0.99", 0.9]],
      );
      assert.equal(value(families, "proxy_backend_bytes_sent_total", b), 20);
      assert.equal(value(families, "proxy_backend_bytes_received_total", b), 10);
      assert.equal(value(families, "proxy_rate_limit_rate"), 87.5);
      assert.equal(value(families, "proxy_rate_limit_tracked_clients"), 12);
      assert.equal(value(families, "proxy_rate_limit_evictions_total"), 6);
      const ws = { pool: "default" };
      assert.equal(
        value(families, "proxy_websocket_connections", { ...ws, listener: "default" }),
        2,
      );
      assert.equal(value(families, "proxy_websocket_sessions_total", ws), 5);
      const toBackend = { ...ws, direction: "to_backend" };
      assert.equal(value(families, "proxy_websocket_bytes_total", toBackend), 100);
      const toClient = { ...ws, direction: "to_client" };
      assert.equal(value(families, "proxy_websocket_bytes_total", toClient), 300);
      assert.equal(value(families, "proxy_uptime_seconds"), 5.5);
      assert.equal(value(families, "proxy_info", { version: "0.1.0" }), 1);
      assert.equal(value(families, "proxy_draining"), 0, "not draining by default");
    });

    await t.step(
      "histogram buckets are cumulative, end in +Inf = _count, and match the snapshot",
      () => {
        const name = "proxy_request_duration_seconds";
        const samples = families.get(name)!.samples;
        const les = [...DURATION_BUCKETS.map(String), "+Inf"];
        assert.deepEqual(les.slice(0, 3), ["0.005", "0.01", "0.025"]);
        assert.ok(les.includes("1") && les.includes("2.5"));
        for (const s of SNAPSHOT.durations) {
          const labels = { backend: s.backend, status_class: s.statusClass };
          const buckets = samples.filter((x) =>
            x.name === `${name}_bucket` && x.labels.backend === s.backend &&
            x.labels.status_class === s.statusClass
          );
          assert.deepEqual(
            buckets.map((x) => x.labels.le),
            les,
            "every bound, in order, then +Inf",
          );
          const counts = buckets.map((x) => x.value);
          counts.forEach((c, i) =>
            assert.ok(i === 0 || c >= counts[i - 1]!, `non-decreasing: ${counts}`)
          );
          assert.deepEqual(counts, s.cumulative);
          assert.equal(counts.at(-1), value(families, name, labels, `${name}_count`));
          assert.equal(value(families, name, labels, `${name}_count`), s.count);
          assert.equal(value(families, name, labels, `${name}_sum`), s.sum);
        }
        const classes = new Set(samples.map((x) => x.labels.status_class));
        assert.deepEqual([...classes].sort(), ["1xx", "2xx", "3xx", "4xx", "5xx"]);
        assert.ok(
          samples.some((x) => x.labels.backend === "-"),
          "Aegis's own answers are labelled -",
        );
      },
    );

    await t.step("label values escape backslash, double quote and newline", () => {
      assert.ok(
        text.includes(
          'proxy_backend_up{pool="default",backend="http://b\\"ad\\\\host:9002/x\\ny"} 0\n',
        ),
        "escaped in the text",
      );
      assert.ok(!text.includes(NASTY_ID), "never raw");
      const ids = new Set(families.get("proxy_backend_up")!.samples.map((s) => s.labels.backend));
      assert.deepEqual([...ids], ["http://10.0.0.1:9001", NASTY_ID], "and read back intact");
    });

    await t.step("circuit state is one-hot over closed, open and half_open", () => {
      const states = families.get("proxy_backend_circuit_state")!.samples;
      for (const [id, current] of [["http://10.0.0.1:9001", "closed"], [NASTY_ID, "open"]]) {
        const mine = states.filter((s) => s.labels.backend === id);
        assert.deepEqual(
          mine.map((s) => [s.labels.state, s.value]),
          ["closed", "open", "half_open"].map((st) => [st, st === current ? 1 : 0]),
        );
      }
    });

    await t.step("integers are written as integers, fractions in plain notation", () => {
      const raw = (family: string) => families.get(family)!.samples[0]!.raw;
      assert.equal(raw("proxy_bytes_sent_total"), "1048576");
      assert.equal(raw("proxy_rate_limit_rate"), "87.5");
      assert.equal(raw("proxy_uptime_seconds"), "5.5");
    });
  },
);

Deno.test("renderPrometheus() reports draining and the admin address when given", {
  permissions: "none",
}, () => {
  const families = parse(
    renderPrometheus(SNAPSHOT, { draining: true, adminListen: "http://127.0.0.1:9091" }),
  );
  assert.equal(value(families, "proxy_draining"), 1);
  assert.deepEqual(families.get("proxy_info")!.samples[0]!.labels, {
    version: "0.1.0",
    listen: "http://0.0.0.0:8080",
    admin_listen: "http://127.0.0.1:9091",
  });
});

Deno.test("renderPrometheus() spells non-finite values +Inf, -Inf and NaN", {
  permissions: "none",
}, () => {
  const rate = (r: number) => {
    const [listener] = SNAPSHOT.listeners;
    const text = renderPrometheus({
      ...SNAPSHOT,
      listeners: [{ ...listener!, limiter: { ...listener!.limiter, rate: r } }],
    });
    return parse(text).get("proxy_rate_limit_rate")!.samples[0]!.raw;
  };
  assert.deepEqual([rate(Infinity), rate(-Infinity), rate(NaN)], ["+Inf", "-Inf", "NaN"]);
});

Deno.test("renderPrometheus() leaves out families with nothing to report", {
  permissions: "none",
}, () => {
  const [listener] = SNAPSHOT.listeners;
  const empty: Snapshot = {
    ...SNAPSHOT,
    listeners: [{ ...listener!, traffic: { ...listener!.traffic, rejects: {} } }],
    global: { ...SNAPSHOT.global, rejects: {} },
    durations: [],
    backends: [],
  };
  const families = parse(renderPrometheus(empty));
  for (const name of families.keys()) {
    assert.ok(!name.startsWith("proxy_backend_"), `${name} without backends`);
  }
  assert.ok(!families.has("proxy_request_duration_seconds"));
  assert.ok(!families.has("proxy_requests_rejected_total"));
  assert.equal(value(families, "proxy_latency_avg_ms"), 0, "no samples: 0, not NaN");
  assert.equal(value(families, "proxy_latency_p99_ms"), 0);
  assert.equal(families.get("proxy_responses_total")!.samples.length, 5, "classes always present");
});

Deno.test("renderPrometheus() reports each shared rate limit store: up, and failed syncs", {
  permissions: "none",
}, () => {
  const [listener] = SNAPSHOT.listeners;
  const withStore = (name: string, status: "connecting" | "up" | "down", failedSyncs: number) => ({
    ...listener!,
    name,
    limiter: { ...listener!.limiter, store: { type: "redis" as const, status, failedSyncs } },
  });
  const families = parse(renderPrometheus({
    ...SNAPSHOT,
    listeners: [
      withStore("web", "up", 2),
      withStore("api", "down", 7),
      withStore("ws", "connecting", 0),
      listener!,
    ],
  }));
  assert.equal(families.get("proxy_rate_limit_store_up")!.type, "gauge");
  assert.equal(families.get("proxy_rate_limit_store_sync_failures_total")!.type, "counter");
  const samples = (name: string) =>
    families.get(name)!.samples.map((s) => [s.labels.listener, s.value]);
  // A listener with local limits (`default`) has no series.
  assert.deepEqual(samples("proxy_rate_limit_store_up"), [["web", 1], ["api", 0], ["ws", 0]]);
  assert.deepEqual(samples("proxy_rate_limit_store_sync_failures_total"), [
    ["web", 2],
    ["api", 7],
    ["ws", 0],
  ]);
});
