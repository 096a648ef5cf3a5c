/**
 * The stress run: thousands of concurrent requests through a real,
 * in-process Aegis while its backends fail, hang, drop connections and
 * recover, two reloads change the pool under load, and a drain ends it.
 * It records everything the invariants in `_check_*.ts` need: what every
 * client got, what Aegis logged and counted, what every backend saw, and
 * what was left behind after shutdown.
 *
 * Phases are tied to how many requests have been sent, never to time, so a
 * slow machine runs the same scenario, only slower.
 *
 * @module
 */

import type { BackendState } from "../../src/pool/mod.ts";
import { startTestAegis } from "../_helpers/aegis.ts";
import { until } from "../_helpers/load.ts";
import { Receipts, startEchoBackend, type StressBackend } from "./_backends.ts";
import { startRawEchoBackend } from "./_raw_backend.ts";
import { ClientSet, Outcomes, sendChecked, specFor, Violations } from "./_clients.ts";
import { configFile } from "./_config.ts";
import { openSockets, settledMemory, TimerTracker } from "./_leaks.ts";
import { LogLedger } from "./_ledger.ts";
import { parsePrometheus } from "./_prometheus.ts";
import { phases, type Stage } from "./_phases.ts";
import { type QuietState, record, type StressOptions, type StressReport } from "./_report.ts";

export type { StressOptions, StressReport } from "./_report.ts";

/** Late requests sent once the drain has begun. */
const LATE_REQUESTS = 5;

/** Runs the scenario and reports what it saw. Cleans up after itself even when it fails. */
export async function runStress(options: StressOptions): Promise<StressReport> {
  const { requests: n, concurrency } = options;
  const say = options.progress ?? (() => {});
  const started = performance.now();
  using timers = new TimerTracker();
  const socketsBefore = await openSockets();
  const v = new Violations();
  const receipts = new Receipts(n, ["a", "b", "c", "d"]);
  await using stack = new AsyncDisposableStack();
  const backends: StressBackend[] = [
    stack.use(startEchoBackend("a", receipts)),
    stack.use(startEchoBackend("b", receipts)),
    stack.use(startRawEchoBackend("c", receipts)),
    stack.use(startEchoBackend("d", receipts)),
  ];
  const names = backends.map((b) => b.name);
  const urls = backends.map((b) => b.url);
  const ledger = new LogLedger(n, urls);
  const file = stack.use(await configFile(options.transport));
  const clients = stack.use(new ClientSet());
  const admin = stack.use(Deno.createHttpClient({}));
  const late = stack.use(Deno.createHttpClient({ localAddress: "127.0.1.2" }));
  const [a, b, c, d] = backends as [StressBackend, StressBackend, StressBackend, StressBackend];
  await file.write([[a.url, 1], [b.url, 1], [c.url, 1]]);
  const proxy = startTestAegis(await file.load(), { logger: ledger, configPath: file.path });
  stack.defer(() => proxy.aegis.shutdown());
  const aegis = proxy.aegis;
  const call = async (method: string, path: string) => {
    const res = await fetch(proxy.adminUrl + path, { method, client: admin });
    return { status: res.status, text: await res.text() };
  };

  const seen = new Set<BackendState>(aegis.pool.states);
  const limiter = aegis.limiter;
  const peaks = { trackedClients: 0, heapUsed: 0 };
  const sampler = setInterval(() => {
    peaks.trackedClients = Math.max(peaks.trackedClients, aegis.limiter.trackedClients);
    peaks.heapUsed = Math.max(peaks.heapUsed, Deno.memoryUsage().heapUsed);
  }, 50);
  stack.defer(() => clearInterval(sampler));

  const outcomes = new Outcomes(n);
  const warm = Math.min(200, Math.floor(n / 10));
  const tailFrom = warm + Math.floor((n - warm) * 0.9);
  const limitedAddresses = new Set<number>();
  let next = 0;
  const waiters: Array<{ at: number; resolve: () => void }> = [];
  const sentAtLeast = (at: number) =>
    next >= at ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ at, resolve }));
  const worker = async (to: number) => {
    while (next < to) {
      const index = next++;
      const spec = specFor(index, index >= tailFrom);
      if (spec.limited >= 0) limitedAddresses.add(spec.limited);
      for (let j = waiters.length - 1; j >= 0; j--) {
        if (next >= waiters[j]!.at) waiters.splice(j, 1)[0]!.resolve();
      }
      await sendChecked(proxy.url, spec, clients.for(spec), names, outcomes, v);
    }
  };

  // Warm-up at low concurrency, so the baseline below includes what any run
  // allocates once (compiled code, pools, buckets) and not what it leaks.
  say(`warm-up: ${warm} requests`);
  await Promise.all(Array.from({ length: 8 }, () => worker(warm)));
  const memoryStart = await settledMemory();

  const stage: Stage = {
    backends: { a, b, c, d },
    async reload(pool, expect) {
      await file.write(pool);
      const r = await call("POST", "/reload");
      for (const s of aegis.pool.states) seen.add(s);
      const body = r.status === 200 ? JSON.parse(r.text) : {};
      const added = [...(body.added ?? [])].sort().join();
      const removed = [...(body.removed ?? [])].sort().join();
      if (
        r.status !== 200 || added !== [...expect.added].sort().join() ||
        removed !== [...expect.removed].sort().join()
      ) {
        v.add("a reload did not do what was asked", `${r.status} ${r.text}`);
      }
      if (aegis.limiter !== limiter) {
        v.add("a reload that left rate_limit alone replaced the limiter's buckets", r.text);
      }
    },
  };
  const at = (fraction: number) => warm + Math.floor(fraction * (n - warm));
  say(`main: ${n - warm} requests at concurrency ${concurrency}`);
  const running = Promise.all(Array.from({ length: concurrency }, () => worker(n)));
  // Should the run fail from here on, stop sending and let what is in flight
  // end before Aegis and the clients are closed (disposal runs last-in first).
  stack.defer(async () => {
    next = Math.max(next, n);
    await running;
  });
  for (const phase of phases(stage)) {
    await sentAtLeast(at(phase.at));
    say(`at ${Math.round(phase.at * 100)}%: ${phase.what}`);
    await phase.run();
  }
  await sentAtLeast(n);

  // Drain once every request is in Aegis's hands: each must still be answered.
  await until(
    () => aegis.stats.get("default").requests >= n,
    "every request reaches Aegis",
    120_000,
  );
  const drained = await call("POST", "/drain");
  if (drained.status !== 202) v.add("POST /drain was refused", drained.text);
  const inFlightAtDrain = drained.status === 202 ? JSON.parse(drained.text).in_flight : -1;
  say(`drain with ${inFlightAtDrain} requests in flight`);
  let lateAnswered = 0;
  for (let k = 0; k < LATE_REQUESTS; k++) {
    try {
      const res = await fetch(`${proxy.url}/late/${k}`, { client: late });
      await res.body?.cancel();
      lateAnswered++;
    } catch {
      // Refused: the listener is closed.
    }
  }
  await running;
  await until(() => aegis.drainStatus().connections === 0, "every connection closes", 60_000);

  const metrics = await call("GET", "/metrics");
  const quiet: QuietState = {
    states: [...seen].map(record),
    snapshot: aegis.refreshSnapshot(),
    metrics: parsePrometheus(metrics.text),
    connections: aegis.drainStatus().connections,
    inFlight: aegis.drainStatus().inFlight,
    requests: aegis.stats.get("default").requests,
  };

  // Both only need time with no traffic, so they are awaited together.
  const [recovered, purged] = await Promise.all([
    until(
      () =>
        aegis.pool.states.every((s) =>
          s.health.health === "healthy" && s.weight === s.backend.weight && s.available()
        ),
      "every backend healthy, warmed up and available",
      30_000,
    ).then(
      () => true as const,
      (e: Error) => `${e.message}: ${JSON.stringify(states(aegis.pool.states))}`,
    ),
    until(() => aegis.limiter.trackedClients === 0, "idle buckets purged", 30_000).then(
      () => true as const,
      (e: Error) => `${e.message}: ${aegis.limiter.trackedClients} left`,
    ),
  ]);
  const evictions = aegis.limiter.evictions;
  const maxClients = aegis.limiter.maxClients;

  say("shutdown");
  await stack.disposeAsync();
  // Every server and client is closed: a timer still due now was left
  // behind. A moment covers any that is merely firing.
  await until(() => timers.count === 0, "timers", 500).catch(() => {});
  const timersLeft = timers.sites();
  let socketsAfter = await openSockets();
  for (let tries = 0; tries < 50 && (socketsAfter ?? 0) > (socketsBefore ?? 0); tries++) {
    // Closing is asynchronous in places (a client noticing the server hung up).
    await new Promise((r) => setTimeout(r, 100));
    socketsAfter = await openSockets();
  }
  const memoryEnd = await settledMemory();

  return {
    options,
    names,
    urls,
    outcomes,
    ledger,
    receipts,
    counts: Object.fromEntries(backends.map((x) => [x.name, x.counts])),
    violations: v.list(),
    late: { sent: LATE_REQUESTS, answered: lateAnswered },
    inFlightAtDrain,
    quiet,
    recovered,
    purged,
    peaks,
    maxClients,
    evictions,
    limitedAddresses: limitedAddresses.size,
    timersLeft,
    sockets: { before: socketsBefore, after: socketsAfter },
    memory: { start: memoryStart, end: memoryEnd },
    elapsedMs: performance.now() - started,
  };
}

function states(list: readonly BackendState[]) {
  return list.map((s) => ({
    id: s.id,
    health: s.health.health,
    weight: s.weight,
    breaker: s.breaker.state,
    available: s.available(),
  }));
}
