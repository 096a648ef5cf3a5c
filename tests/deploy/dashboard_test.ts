/**
 * `deploy/grafana/`: the dashboard and its provisioning against what a real
 * Aegis exports. An Aegis with an http, a tcp and a udp listener takes a
 * little traffic of each kind, so that every family `/metrics` can export
 * is there; then every PromQL expression of the dashboard may name only
 * those families, and every family must be in some panel.
 */

import assert from "node:assert/strict";
import { parse } from "yaml";
import { startTestAegis } from "../_helpers/aegis.ts";
import { startBackend } from "../_helpers/backend.ts";
import { parseTestConfig } from "../_helpers/config.ts";
import { closeQuietly, echo, readExactly, writeFully } from "../_helpers/l4.ts";
import { until } from "../_helpers/load.ts";
import { startRawBackend } from "../_helpers/raw.ts";
import { createPki } from "../_helpers/tls.ts";
import { startTaggingBackend, udpClient } from "../_helpers/udp.ts";
import { deployPath } from "./_deploy.ts";

/** A Grafana panel, as far as this test reads it. */
interface Panel {
  readonly id: number;
  readonly type: string;
  readonly title: string;
  readonly gridPos: {
    readonly x: number;
    readonly y: number;
    readonly w: number;
    readonly h: number;
  };
  readonly datasource?: { readonly type: string; readonly uid: string };
  readonly targets?: ReadonlyArray<
    { readonly expr: string; readonly datasource?: Panel["datasource"] }
  >;
  /** A collapsed row keeps its panels inside it. */
  readonly panels?: readonly Panel[];
}

interface Dashboard {
  readonly uid: string;
  readonly panels: readonly Panel[];
  readonly templating: {
    readonly list: ReadonlyArray<{
      readonly name: string;
      readonly datasource: Panel["datasource"];
      readonly definition: string;
      readonly query: { readonly query: string };
    }>;
  };
}

const dashboard: Dashboard = JSON.parse(
  await Deno.readTextFile(deployPath("grafana/dashboards/aegis.json")),
);

/** Every panel, those inside collapsed rows included. */
function allPanels(panels: readonly Panel[] = dashboard.panels): Panel[] {
  return panels.flatMap((p) => [p, ...allPanels(p.panels ?? [])]);
}

/** Every PromQL expression of the panels, with the title of its panel. */
function expressions(): Array<{ title: string; expr: string }> {
  return allPanels().flatMap((p) =>
    (p.targets ?? []).map((t) => ({ title: p.title, expr: t.expr }))
  );
}

/** PromQL words that are neither metrics nor functions. */
const KEYWORDS = new Set(["and", "or", "unless", "bool", "offset", "Inf", "NaN", "inf", "nan"]);

/**
 * The metric names an expression selects: whatever identifier is left
 * once strings, label matchers, range selectors and label lists
 * (`by (...)` and the like) are gone, except function and aggregation
 * names (followed by `(`), keywords, and the exponents of numbers.
 */
function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, " ")
    .replace(/\[[^\]]*\]/g, " ")
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, " ");
  return [...bare.matchAll(/(?<![\w.$])[A-Za-z_:][\w:]*(?![\w:]|\s*\()/g)]
    .map((m) => m[0])
    .filter((name) => !KEYWORDS.has(name));
}

/** A family the name stands for: a histogram's `_bucket`, `_sum` and `_count` series are its own. */
function familyOf(name: string, histograms: ReadonlySet<string>): string {
  const base = name.replace(/_(?:bucket|sum|count)$/, "");
  return base !== name && histograms.has(base) ? base : name;
}

/** What a running Aegis exports: every family with its type, and the label names of each. */
interface Exported {
  readonly types: ReadonlyMap<string, string>;
  readonly labels: ReadonlyMap<string, ReadonlySet<string>>;
}

function readExposition(text: string): Exported {
  const types = new Map<string, string>();
  for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) types.set(m[1]!, m[2]!);
  const histograms = new Set([...types].filter(([, t]) => t === "histogram").map(([n]) => n));
  const labels = new Map<string, Set<string>>();
  for (const m of text.matchAll(/^([A-Za-z_:][\w:]*)(?:\{(.*)\})? \S+$/gm)) {
    const family = familyOf(m[1]!, histograms);
    const set = labels.get(family) ?? new Set();
    for (const l of (m[2] ?? "").matchAll(/(\w+)="/g)) set.add(l[1]!);
    labels.set(family, set);
  }
  return { types, labels };
}

/**
 * Starts an Aegis with one listener of each protocol, a TLS one, and its
 * metrics listener, sends an accepted and a refused request, a tcp connection and a
 * udp datagram through it, and returns its `/metrics` text.
 */
async function scrapeBusyAegis(): Promise<string> {
  // Plain requests get "ok"; an upgrade becomes an echoing WebSocket, for the WebSocket families.
  await using web = startBackend((request) => {
    if (request.headers.get("upgrade") !== "websocket") return new Response("ok");
    const { socket, response } = Deno.upgradeWebSocket(request, { idleTimeout: 0 });
    socket.onmessage = (e) => socket.send(e.data);
    return response;
  });
  await using pg = startRawBackend(echo);
  await using dns = await startTaggingBackend("dns");
  // A TLS listener, for the certificate expiry family.
  await using pki = await createPki();
  const cert = await pki.issue("site", ["localhost"]);
  const config = await parseTestConfig({
    health_check: { interval: "1h" },
    admin: { metrics_address: "127.0.0.1:0" },
    listeners: [
      {
        name: "web",
        address: "127.0.0.1:0",
        routes: [{ pool: "web" }],
        websocket: { enabled: true },
      },
      {
        name: "secure",
        address: "127.0.0.1:0",
        routes: [{ pool: "web" }],
        tls: { certificates: [{ cert_file: cert.certFile, key_file: cert.keyFile }] },
      },
      { name: "db", protocol: "tcp", address: "127.0.0.1:0", pool: "pg" },
      { name: "dns", protocol: "udp", address: "127.0.0.1:0", pool: "dns" },
    ],
    pools: {
      web: { backends: [{ url: web.url, weight: 1 }] },
      pg: { backends: [{ address: `127.0.0.1:${pg.port}`, weight: 1 }] },
      dns: { backends: [{ address: dns.address, weight: 1 }] },
    },
  });
  await using proxy = startTestAegis(config);
  await proxy.aegis.ready;
  const { listeners } = proxy.aegis;

  assert.equal(await (await fetch(proxy.url)).text(), "ok");
  // Refused by validation: proxy_requests_rejected_total has a sample only once something was.
  const refused = await fetch(proxy.url, { method: "PROPFIND" });
  assert.equal(refused.status, 405);
  await refused.body?.cancel();

  const conn = await Deno.connect({ hostname: "127.0.0.1", port: listeners.get("db")!.addr.port });
  await writeFully(conn, new TextEncoder().encode("ping"));
  assert.equal(new TextDecoder().decode(await readExactly(conn, 4)), "ping");
  closeQuietly(conn);
  await until(() => listeners.get("db")!.server.connections === 0, "the tcp relay to end");

  const ws = new WebSocket(proxy.url.replace("http:", "ws:"));
  await new Promise((r) => ws.onopen = r);
  ws.send("hello");
  await new Promise((r) => ws.onmessage = r);
  ws.close();
  await new Promise((r) => ws.onclose = r);
  await using client = await udpClient();
  client.send("q", listeners.get("dns")!.addr.port);
  assert.deepEqual(await client.texts(1), ["dns|q"]);

  proxy.aegis.refreshSnapshot();
  return await (await fetch(`${proxy.metricsUrl}/metrics`)).text();
}

Deno.test("metricNames() finds the metrics of an expression and nothing else", () => {
  assert.deepEqual(
    metricNames(
      'histogram_quantile(0.95, sum by (listener, le) (rate(proxy_request_duration_seconds_bucket{listener=~"$listener", pool=~"a|b"}[$__rate_interval])))',
    ),
    ["proxy_request_duration_seconds_bucket"],
  );
  assert.deepEqual(
    metricNames('max by (pool) (up{x="y"}) + 2 * max without (le) (proxy_b) > bool 1e3'),
    ["up", "proxy_b"],
  );
  const histograms = new Set(["proxy_request_duration_seconds"]);
  assert.equal(
    familyOf("proxy_request_duration_seconds_count", histograms),
    "proxy_request_duration_seconds",
  );
  assert.equal(familyOf("proxy_requests_count", histograms), "proxy_requests_count");
});

Deno.test("the dashboard shows what a running Aegis exports, and only that", async (t) => {
  const exported = readExposition(await scrapeBusyAegis());
  const histograms = new Set(
    [...exported.types].filter(([, type]) => type === "histogram").map(([n]) => n),
  );
  const families = (expr: string) => metricNames(expr).map((n) => familyOf(n, histograms));

  await t.step("the Aegis exports the L4, refusal and histogram families", () => {
    for (const family of ["proxy_udp_sessions", "proxy_requests_rejected_total"]) {
      assert.ok(exported.types.has(family), family);
    }
    assert.equal(exported.types.get("proxy_request_duration_seconds"), "histogram");
  });

  await t.step("every expression names only exported families", () => {
    const unknown = expressions().flatMap(({ title, expr }) =>
      families(expr).filter((f) => !exported.types.has(f)).map((f) => `${title}: ${f}`)
    );
    assert.deepEqual(unknown, []);
  });

  await t.step("every exported family is in a panel", () => {
    const shown = new Set(expressions().flatMap(({ expr }) => families(expr)));
    assert.deepEqual([...exported.types.keys()].filter((f) => !shown.has(f)), []);
  });

  await t.step(
    "histograms go through _bucket and histogram_quantile, counters through rate or increase",
    () => {
      for (const { title, expr } of expressions()) {
        for (const name of metricNames(expr)) {
          const type = exported.types.get(familyOf(name, histograms));
          if (type === "histogram") {
            assert.match(name, /_bucket$/, title);
            assert.match(expr, /histogram_quantile\(/, title);
          } else if (type === "counter") {
            assert.match(expr, new RegExp(`(?:rate|increase)\\(${name}\\b`), `${title}: ${expr}`);
          }
        }
      }
    },
  );

  await t.step(
    "the variables listener and pool come from labels that exist, and filter every panel",
    () => {
      const vars = new Map(dashboard.templating.list.map((v) => [v.name, v]));
      assert.deepEqual([...vars.keys()], ["listener", "pool"]);
      for (const [name, v] of vars) {
        const m = /^label_values\((\w+), (\w+)\)$/.exec(v.query.query);
        assert.ok(m, `${name}: ${v.query.query}`);
        assert.equal(v.definition, v.query.query);
        assert.equal(m[2], name);
        assert.ok(exported.labels.get(m[1]!)?.has(name), `${m[1]} has no label ${name}`);
      }
      for (const { title, expr } of expressions()) {
        const labels = families(expr).flatMap((f) => [...exported.labels.get(f) ?? []]);
        if (labels.includes("listener")) assert.match(expr, /listener=~"\$listener"/, title);
        if (labels.includes("pool")) assert.match(expr, /pool=~"\$pool"/, title);
      }
    },
  );
});

Deno.test("every PromQL expression of the dashboard parses (promtool check rules)", {
  permissions: { run: ["promtool"], read: true, write: true, env: ["LOG_TOKENS", "LOG_STREAM"] },
}, async () => {
  // Grafana's variables, as Prometheus would see them once Grafana has put values in.
  const concrete = (expr: string) =>
    expr.replaceAll("$__rate_interval", "1m").replaceAll("$__range", "1h")
      .replaceAll("$listener", ".*").replaceAll("$pool", ".*");
  const all = [
    ...expressions().map((e) => e.expr),
    ...dashboard.templating.list.map((v) =>
      v.query.query.replace(/^label_values\((\w+),.*$/, "$1")
    ),
  ];
  const rules = {
    groups: [{
      name: "dashboard",
      rules: all.map((expr, i) => ({ record: `aegis:dashboard:${i}`, expr: concrete(expr) })),
    }],
  };
  const dir = await Deno.makeTempDir({ prefix: "aegis-dashboard-" });
  try {
    await Deno.writeTextFile(`${dir}/rules.yml`, JSON.stringify(rules));
    const out = await new Deno.Command("promtool", {
      args: ["check", "rules", `${dir}/rules.yml`],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 0, text);
    assert.match(text, new RegExp(`SUCCESS: ${all.length} rules found`));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the dashboard reads the provisioned Prometheus data source", async () => {
  const provisioning = parse(
    await Deno.readTextFile(deployPath("grafana/provisioning/datasources/prometheus.yml")),
  );
  const [source] = provisioning.datasources;
  assert.equal(source.type, "prometheus");
  assert.equal(source.url, "http://prometheus:9090", "the compose service");
  const refs = [
    ...allPanels().flatMap((p) => [p.datasource, ...(p.targets ?? []).map((t) => t.datasource)]),
    ...dashboard.templating.list.map((v) => v.datasource),
  ].filter((d) => d !== undefined);
  assert.ok(refs.length > 0);
  for (const ref of refs) assert.deepEqual(ref, { type: "prometheus", uid: source.uid });

  const providers = parse(
    await Deno.readTextFile(deployPath("grafana/provisioning/dashboards/aegis.yml")),
  );
  assert.equal(providers.providers[0].options.path, "/var/lib/grafana/dashboards");
});

Deno.test("no two panels share an id, and every panel lies within the grid", () => {
  const panels = allPanels();
  const ids = panels.map((p) => p.id);
  assert.equal(new Set(ids).size, ids.length);
  for (const { title, gridPos: { x, w } } of panels) assert.ok(x >= 0 && x + w <= 24, title);
});
