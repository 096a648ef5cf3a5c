/**
 * The layers of `src/`, read from the imports: core → base → capabilities
 * → request paths → app. A folder may import its own layer or those below,
 * never above; another folder only through its `mod.ts`; and no two folders
 * import each other, directly or round a circle. A new folder must be
 * placed in a layer here before it can be imported at all.
 */

import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";

const SRC = fileURLToPath(new URL("../src/", import.meta.url));

/** Top-level entries of `src/` by layer, lowest first. A file at the top is its own unit. */
const LAYERS: ReadonlyArray<readonly string[]> = [
  // The request-path contract, and what every layer may know.
  ["core", "version.ts"],
  // Time, addresses, events, logs, counters: no knowledge of HTTP.
  ["clock", "net", "events", "log", "metrics"],
  // What a configuration is made of, and the state machines it configures.
  ["config", "breaker", "limit", "health", "pool", "tracing", "tls"],
  // The request paths: the HTTP proxy and its upstream transports; the L4 relays.
  ["proxy", "h1", "routing", "l4"],
  // Listeners, lifecycle, reload, admin, dashboards, the command line.
  [
    "server",
    "snapshot",
    "admin",
    "dashboard",
    "runtime",
    "connection_limits.ts",
    "lifecycle",
    "reload",
    "aegis.ts",
    "app.ts",
    // Worker isolates (server.workers): the control side and the worker entry, over app.ts.
    "workers",
    "cli",
    "main.ts",
    "demo",
  ],
];

const layerOf = new Map<string, number>();
LAYERS.forEach((units, i) => units.forEach((u) => layerOf.set(u, i)));

interface Edge {
  readonly from: string;
  readonly to: string;
  readonly fromUnit: string;
  readonly toUnit: string;
}

/** Every `.ts` file under `dir`, relative to `src/`. */
async function sources(dir = ""): Promise<string[]> {
  const out: string[] = [];
  for await (const entry of Deno.readDir(SRC + dir)) {
    const path = dir + entry.name;
    if (entry.isDirectory) out.push(...await sources(path + "/"));
    else if (entry.name.endsWith(".ts")) out.push(path);
  }
  return out;
}

/** Relative specifiers a module imports or re-exports, statically or dynamically. */
function specifiers(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/(?:import|export)\s[^;]*?\sfrom\s*"(\.[^"]+)"/g)) out.push(m[1]!);
  for (const m of text.matchAll(/import\s*\(\s*"(\.[^"]+)"\s*\)/g)) out.push(m[1]!);
  for (const m of text.matchAll(/^import\s+"(\.[^"]+)";/gm)) out.push(m[1]!);
  return out;
}

/** The layer unit a path under `src/` belongs to: its top folder, or the file itself. */
function unitOf(path: string): string {
  const slash = path.indexOf("/");
  return slash < 0 ? path : path.slice(0, slash);
}

function resolve(from: string, spec: string): string {
  const parts = from.split("/").slice(0, -1);
  for (const part of spec.split("/")) {
    if (part === "..") parts.pop();
    else if (part !== ".") parts.push(part);
  }
  return parts.join("/");
}

async function edges(): Promise<Edge[]> {
  const out: Edge[] = [];
  for (const from of await sources()) {
    const text = await Deno.readTextFile(SRC + from);
    for (const spec of specifiers(text)) {
      const to = resolve(from, spec);
      if (to.startsWith("..") || !to.endsWith(".ts")) continue; // deno.json and the like
      const fromUnit = unitOf(from);
      const toUnit = unitOf(to);
      if (fromUnit !== toUnit) out.push({ from, to, fromUnit, toUnit });
    }
  }
  return out;
}

Deno.test("every top-level folder and file of src/ has a place in a layer", async () => {
  const units = new Set((await sources()).map(unitOf));
  const unplaced = [...units].filter((u) => !layerOf.has(u)).sort();
  assert.deepEqual(unplaced, [], "place these in LAYERS (tests/architecture_test.ts)");
});

Deno.test("no folder imports a folder of a higher layer", async () => {
  const upward = (await edges())
    .filter((e) => (layerOf.get(e.toUnit) ?? Infinity) > (layerOf.get(e.fromUnit) ?? -1))
    .map((e) => `${e.from} → ${e.to}`);
  assert.deepEqual(upward, []);
});

Deno.test("another folder is imported only through its mod.ts", async () => {
  const around = (await edges())
    .filter((e) => e.toUnit !== e.to && e.to !== `${e.toUnit}/mod.ts`)
    .map((e) => `${e.from} → ${e.to}`);
  assert.deepEqual(around, []);
});

Deno.test("no two folders depend on each other, directly or round a circle", async () => {
  const next = new Map<string, Set<string>>();
  for (const e of await edges()) {
    if (!next.has(e.fromUnit)) next.set(e.fromUnit, new Set());
    next.get(e.fromUnit)!.add(e.toUnit);
  }
  const circles: string[] = [];
  const state = new Map<string, "open" | "done">();
  const path: string[] = [];
  const visit = (unit: string) => {
    state.set(unit, "open");
    path.push(unit);
    for (const to of next.get(unit) ?? []) {
      if (state.get(to) === "open") circles.push([...path.slice(path.indexOf(to)), to].join(" → "));
      else if (!state.has(to)) visit(to);
    }
    path.pop();
    state.set(unit, "done");
  };
  for (const unit of [...next.keys()].sort()) if (!state.has(unit)) visit(unit);
  assert.deepEqual(circles, []);
});

Deno.test("the layer check itself sees the imports it is about", async () => {
  // A test that reads nothing would pass forever: the proxy imports the core.
  const found = (await edges()).some((e) => e.fromUnit === "proxy" && e.toUnit === "core");
  assert.ok(found);
});
