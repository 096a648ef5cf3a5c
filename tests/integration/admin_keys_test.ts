/**
 * One naming style for every key an operator reads: the admin API's answers
 * (`/status`, `/health`, `/reload`, `/drain`, the web dashboard's `/stream`,
 * and its errors), the events it serves and the log lines are snake_case,
 * like the configuration file and the Prometheus names. An in-process Aegis is driven through every kind of
 * event, then every key of every answer, event and log line is walked.
 *
 * Keys that are data rather than names are the only exceptions, listed in
 * `DATA_KEYS` with what they must look like instead. The same answers check
 * that README.md's Admin API documents every key `/status` returns.
 */

import assert from "node:assert/strict";
import { stringify } from "yaml";
import { loadConfigFile } from "../../src/config/mod.ts";
import { type AegisEvent, EventLog } from "../../src/events/mod.ts";
import { createLogger, eventLogger, type Logger } from "../../src/log/mod.ts";
import { startTestAegis } from "../_helpers/aegis.ts";
import { startBackend } from "../_helpers/backend.ts";
import { withTestTransport } from "../_helpers/config.ts";
import { until } from "../_helpers/load.ts";
import { SseReader } from "../_helpers/sse.ts";

/** The one style: lower-case words of letters and digits joined by `_`. */
const SNAKE_CASE = /^[a-z0-9]+(_[a-z0-9]+)*$/;

/**
 * Objects whose keys are data, not names, by path (`[]` for any array
 * index), each with the shape its keys must have instead.
 */
const DATA_KEYS: ReadonlyMap<string, RegExp> = new Map([
  // Responses by status class: `1xx` … `5xx`.
  ["global.responses", /^[1-5]xx$/],
  // Validation rejects by reason: the `reason` values of the access log.
  ["global.rejects", /^[a-z_]+$/],
  // The same, per listener.
  ["listeners[].responses", /^[1-5]xx$/],
  ["listeners[].rejects", /^[a-z_]+$/],
]);

/** Every event kind Aegis records; the test provokes each before it walks. */
const EVENT_KINDS = ["breaker", "drain", "health", "limit", "log", "rate", "reload", "warmup"];

/** A loopback port nothing listens on: the shared rate limit store is unreachable there. */
const NO_REDIS = (() => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  listener.close();
  return `redis://127.0.0.1:${(listener.addr as Deno.NetAddr).port}`;
})();

const TOKEN = "s3cret-admin-token-0123456789";
const auth = { authorization: `Bearer ${TOKEN}` };

/** One key found by {@linkcode keysOf}. */
interface Key {
  /** Where it is, e.g. `backends[].breaker.half_open_in_flight`. */
  readonly path: string;
  readonly key: string;
  /** The path of the object holding it. */
  readonly parent: string;
  readonly value: unknown;
}

/** Every key in a parsed JSON value, depth first. */
function keysOf(value: unknown, parent = ""): Key[] {
  if (Array.isArray(value)) return value.flatMap((v) => keysOf(v, `${parent}[]`));
  if (value === null || typeof value !== "object") return [];
  return Object.entries(value).flatMap(([key, v]) => {
    const path = parent ? `${parent}.${key}` : key;
    return [{ path, key, parent, value: v }, ...keysOf(v, path)];
  });
}

/** The keys that break the rule, as `where: path` lines (empty when none does). */
function misnamed(where: string, value: unknown): string[] {
  const bad = keysOf(value)
    .filter(({ key, parent }) => !(DATA_KEYS.get(parent) ?? SNAKE_CASE).test(key))
    .map(({ path }) => `${where}: ${path}`);
  return [...new Set(bad)];
}

/** README.md's text from `heading` to the next heading of its level or above. */
async function readmeSection(heading: string): Promise<string> {
  const readme = await Deno.readTextFile(new URL("../../README.md", import.meta.url));
  const start = readme.indexOf(`\n${heading}\n`);
  assert.ok(start >= 0, `README.md has ${heading}`);
  const level = heading.split(" ")[0]!;
  const rest = readme.slice(start + heading.length + 2);
  const next = rest.search(new RegExp(`^#{1,${level.length}} `, "m"));
  return next < 0 ? rest : rest.slice(0, next);
}

/** YAML data for a loopback Aegis whose loops all run within a test's time. */
function configData(backends: string[]) {
  return {
    server: { host: "127.0.0.1", port: 0 },
    backends: backends.map((url) => ({ url, weight: 1 })),
    development: { allow_loopback_backends: true },
    admin: { address: "127.0.0.1:0", token: TOKEN },
    health_check: { interval: "200ms", timeout: "200ms", healthy_threshold: 1 },
    // The first failure opens a breaker, and it stays open for the test.
    circuit_breaker: { failure_threshold: 1, open_timeout: "1h" },
    // Fast backends: the loop raises the rate at its first evaluation.
    adaptive: { evaluation_interval: "100ms" },
    // Its store unreachable: a `limit` event, and `limiter.store` in /status.
    rate_limit: { exempt: ["127.0.0.0/8"], store: { type: "redis", url: NO_REDIS } },
  };
}

async function call(url: string, init: RequestInit = {}) {
  const res = await fetch(url, init);
  return { status: res.status, body: await res.json() as unknown };
}

Deno.test("every key of the admin API's answers, its events and the log lines is snake_case", async (t) => {
  await using a = startBackend(() => new Response("a"));
  // Probes pass (the helper answers them), requests fail: a breaker opens.
  await using b = startBackend(() => new Response("down", { status: 500 }));
  await using c = startBackend(() => new Response("c"));
  const dir = await Deno.makeTempDir({ prefix: "aegis-keys-" });
  await using _dir = { [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }) };
  const path = `${dir}/aegis.yml`;
  const write = (data: string | Record<string, unknown>) =>
    Deno.writeTextFile(path, typeof data === "string" ? data : stringify(withTestTransport(data)));
  await write(configData([a.url, b.url]));
  const loaded = await loadConfigFile(path);
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.diagnostics));

  // As with the dashboard on, warnings also become `log` events; every line
  // is kept as JSON too, to walk the log's own keys.
  const events = new EventLog();
  const logs: unknown[] = [];
  const json = createLogger({ level: "debug", sink: (l) => logs.push(JSON.parse(l)) });
  const toEvents = eventLogger(events);
  const logger: Logger = {
    level: "debug",
    enabled: () => true,
    debug: (msg, fields) => (json.debug(msg, fields), toEvents.debug(msg, fields)),
    info: (msg, fields) => (json.info(msg, fields), toEvents.info(msg, fields)),
    warn: (msg, fields) => (json.warn(msg, fields), toEvents.warn(msg, fields)),
    error: (msg, fields) => (json.error(msg, fields), toEvents.error(msg, fields)),
  };
  await using proxy = startTestAegis(loaded.config, { configPath: path, events, logger });
  const admin = proxy.adminUrl;
  const answers: Array<[string, unknown]> = [];
  const keep = (what: string, r: { body: unknown }) => answers.push([what, r.body]);
  const seen = (kind: string) => events.recent().some((e) => e.kind === kind);
  /** The events as the last `GET /status` served them. */
  const served = () => (answers.at(-1)![1] as { events: AegisEvent[] }).events;

  await t.step("every kind of event happens", async () => {
    // Round-robin reaches b, whose 500 opens its breaker; a's answers feed the rate loop.
    for (let i = 0; i < 4; i++) await (await fetch(proxy.url)).body?.cancel();
    // A rejected request, so `global.rejects` has a key.
    await (await fetch(proxy.url, { method: "PROPFIND" })).body?.cancel();
    // Until b's breaker opens, keep sending: on a loaded machine b may still
    // be waiting for its first health check when the first requests go out.
    await until(async () => {
      if (!seen("breaker")) await (await fetch(proxy.url)).body?.cancel();
      return seen("breaker") && seen("rate");
    }, "a breaker opens and the rate moves");

    // c comes in unhealthy, passes a check (health), then warms up (warmup).
    await write(configData([a.url, b.url, c.url]));
    const reloaded = await call(`${admin}/reload`, { method: "POST", headers: auth });
    assert.equal(reloaded.status, 200);
    keep("POST /reload", reloaded);
    await until(() => seen("health") && seen("warmup"), "c is checked and warms up");

    // A refused token is a warning, so a `log` event.
    const refused = await call(`${admin}/reload`, { method: "POST" });
    assert.equal(refused.status, 401);
    keep("POST /reload without the token", refused);
    await write("server:\n  port: 70000\n");
    const invalid = await call(`${admin}/reload`, { method: "POST", headers: auth });
    assert.equal(invalid.status, 400);
    keep("POST /reload with an invalid file", invalid);
    keep("GET /nope", await call(`${admin}/nope`));
    keep("GET /drain", await call(`${admin}/drain`));

    const stream = await fetch(`${admin}/stream`, { headers: auth });
    await using events = new SseReader(stream.body!);
    const { status, ...hello } = await events.json<{ status: unknown }>("hello");
    keep("GET /stream, the web dashboard's first message", { body: hello });
    keep("GET /stream, its status view", { body: status });
    keep("GET /health", await call(`${admin}/health`));
    keep("GET /status before the drain", await call(`${admin}/status`));
    const drained = await call(`${admin}/drain`, { method: "POST", headers: auth });
    assert.equal(drained.status, 202);
    keep("POST /drain", drained);
    await until(() => seen("drain"), "the drain is recorded");
    keep("GET /status", await call(`${admin}/status`));
    const kinds = new Set(served().map((e) => e.kind));
    assert.deepEqual(EVENT_KINDS.filter((k) => !kinds.has(k)), [], "event kinds not served");
  });

  await t.step(
    "no answer of the admin API, events included, has a key that is not snake_case",
    () => {
      assert.deepEqual(answers.flatMap(([what, body]) => misnamed(what, body)), []);
    },
  );

  await t.step("the data keys excepted are there, and are data", () => {
    const [, status] = answers.at(-1)!;
    const keys = keysOf(status);
    for (const parent of DATA_KEYS.keys()) {
      assert.ok(keys.some((k) => k.parent === parent), `${parent} has keys to check`);
    }
    const rejects = (status as { global: { rejects: Record<string, number> } }).global.rejects;
    assert.deepEqual(Object.keys(rejects), ["method_not_allowed"]);
  });

  await t.step("no event in the ring has a field name that is not snake_case", () => {
    // The whole ring, beyond the 100 `/status` serves.
    assert.deepEqual(events.recent().flatMap((e) => misnamed(`${e.kind} event`, e)), []);
  });

  await t.step(
    "README.md documents every key of GET /status, and each event kind's fields",
    async () => {
      const section = await readmeSection("### `GET /status` keys");
      // Documented as a whole: the configuration reference has `config`'s keys,
      // data keys are no names, and event fields are documented by kind below.
      const whole = ["config", "events[].fields", ...DATA_KEYS.keys()];
      const paths = new Set(
        answers.filter(([what]) => what.startsWith("GET /status")).flatMap(([, body]) =>
          keysOf(body)
            .filter(({ path }) => !whole.some((w) => path.startsWith(`${w}.`)))
            // An object is documented by its keys, unless it is documented as a whole.
            .filter(({ path, value }) => whole.includes(path) || keysOf(value).length === 0)
            .map(({ path }) => path)
        ),
      );
      assert.deepEqual([...paths].filter((p) => !section.includes(`\`${p}\``)), [], "undocumented");

      const rowOf = (kind: string) =>
        section.split("\n").find((l) => l.startsWith(`| \`${kind}\``)) ?? "";
      const undocumented = served()
        // A `log` event carries whatever its log line had: the row says so.
        .filter((e) => e.kind !== "log")
        .flatMap((e) => Object.keys(e.fields).map((f) => [e.kind, f] as const))
        .filter(([kind, f]) => !rowOf(kind).includes(`\`${f}\``))
        .map(([kind, f]) => `${kind}: ${f}`);
      assert.deepEqual([...new Set(undocumented)], [], "event fields missing from the table");
      assert.deepEqual(EVENT_KINDS.filter((k) => rowOf(k) === ""), [], "event kinds missing");
    },
  );

  await t.step("no log line has a field name that is not snake_case", () => {
    assert.ok(logs.length > 10, `${logs.length} log lines`);
    assert.deepEqual(
      logs.flatMap((line) => misnamed(String((line as { msg: string }).msg), line)),
      [],
    );
  });
});
