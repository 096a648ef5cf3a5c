/**
 * Checks of the topology: how listeners, routes and pools fit together, and
 * whether the two configuration forms were mixed. Run on whatever decoded
 * cleanly, so that one broken field does not hide these problems.
 *
 * - `listeners` replaces `server.host`/`server.port`, and `pools` replaces
 *   the top-level `backends`: writing both is an error at the key that goes;
 * - a listener name is unique, and no two listeners (nor the admin API)
 *   share an address;
 * - a route names a pool that exists; `strip_prefix` needs a prefix;
 * - a pool no route uses, and a route no request can take, are warnings.
 *
 * @module
 */

import { isMap, isScalar, type Node } from "yaml";
import { parseHostPort } from "./checks.ts";
import type { Decoder } from "./decoder.ts";
import { quote } from "./echo.ts";
import { DEFAULT_NAME, joinHostPort } from "./expand.ts";

/** What the file says about one listener, as far as it decoded. */
interface WrittenListener {
  readonly path: string;
  readonly name?: string;
  readonly address?: string;
  readonly routes: Map<number, WrittenRoute>;
}

interface WrittenRoute {
  pool?: string;
  stripPrefix?: boolean;
  match?: { host?: string; path_prefix?: string; methods?: string[] };
}

const LISTENER_FIELD = /^listeners\[(\d+)\]\.(name|address)$/;
const ROUTE_FIELD = /^listeners\[(\d+)\]\.routes\[(\d+)\]\.(pool|strip_prefix|match)$/;

/** The listeners of the file, by index, from the values that decoded. */
function writtenListeners(d: Decoder): Map<number, WrittenListener> {
  const out = new Map<number, WrittenListener>();
  const get = (i: number) => {
    let l = out.get(i);
    if (!l) out.set(i, l = { path: `listeners[${i}]`, routes: new Map() });
    return l;
  };
  for (const [path, value] of d.values) {
    const l = LISTENER_FIELD.exec(path);
    if (l) {
      Object.assign(get(Number(l[1])), { [l[2]!]: value });
      continue;
    }
    const r = ROUTE_FIELD.exec(path);
    if (!r) continue;
    const routes = get(Number(r[1])).routes;
    const j = Number(r[2]);
    const route = routes.get(j) ?? {};
    routes.set(j, route);
    if (r[3] === "pool") route.pool = value as string;
    else if (r[3] === "strip_prefix") route.stripPrefix = value as boolean;
    else route.match = value as WrittenRoute["match"];
  }
  return out;
}

/** True when two listen addresses cannot both be bound: same port, and a host in common. */
function clash(a: string, b: string): boolean {
  const x = parseHostPort(a);
  const y = parseHostPort(b);
  if (!x || !y || x.port === 0 || x.port !== y.port) return false;
  const wildcard = (h: string) => h === "0.0.0.0" || h === "::";
  return wildcard(x.host) || wildcard(y.host) || x.host.toLowerCase() === y.host.toLowerCase();
}

/** Reports topology problems and warnings into `d`; `root` is the file's top node. */
export function topologyChecks(d: Decoder, root: Node): void {
  const expanded = d.present.has("listeners");
  const pooled = d.present.has("pools");
  // [Mixing forms] The keys the expanded form replaces, where they were written.
  if (expanded) {
    for (const key of ["server.host", "server.port"]) {
      if (d.present.has(key)) {
        d.report(
          key,
          "listeners replace server.host and server.port: give each listener an address",
        );
      }
    }
  }
  if (pooled && d.present.has("backends")) {
    d.report(
      "backends",
      "pools replace the top-level backends: move these into a pool (the flat form's is named default)",
    );
  }
  // A root that is not a mapping was reported as such; nothing else about it helps.
  const mapping = isMap(root) || (isScalar(root) && root.value === null);
  if (!pooled && !d.present.has("backends") && mapping) d.report("backends", "is required", root);

  // Unknown (undefined) when the pools did not decode: no route is then checked against them.
  const poolNames = pooled
    ? d.names.get("pools")
    : d.present.has("backends")
    ? [DEFAULT_NAME]
    : undefined;
  if (!expanded && pooled && poolNames && !poolNames.includes(DEFAULT_NAME)) {
    d.report(
      "pools",
      "without listeners every request goes to the pool named default: add it, or declare listeners",
    );
  }

  const listeners = expanded ? [...writtenListeners(d).values()] : [];
  const names = new Map<string, string>();
  const addresses: Array<[string, string]> = [];
  if (!expanded) {
    const host = d.values.get("server.host") ?? (d.values.get("server") as { host?: string })?.host;
    const port = d.values.get("server.port") ?? (d.values.get("server") as { port?: number })?.port;
    if (typeof host === "string" && typeof port === "number") {
      addresses.push(["server.port", joinHostPort(host, port)]);
    }
  }
  for (const l of listeners) {
    if (l.name !== undefined) {
      const first = names.get(l.name);
      if (first) d.report(`${l.path}.name`, `duplicate of ${first}.name (${quote(l.name)})`);
      else names.set(l.name, l.path);
    }
    if (l.address !== undefined) {
      const other = addresses.find(([, a]) => clash(a, l.address!));
      if (other) {
        d.report(
          `${l.path}.address`,
          `${quote(l.address)} is taken by ${other[0].replace(/\.address$/, "")} (${other[1]})`,
        );
      } else addresses.push([`${l.path}.address`, l.address]);
    }
  }
  const admin = d.values.get("admin.address") ??
    (d.values.get("admin") as { address?: string } | undefined)?.address;
  const taken = typeof admin === "string" ? addresses.find(([, a]) => clash(a, admin)) : undefined;
  if (taken) {
    d.report("admin.address", `${quote(admin as string)} is taken by ${taken[0]} (${taken[1]})`);
  }

  const used = new Set<string>(expanded ? [] : [DEFAULT_NAME]);
  for (const l of listeners) {
    const seen = new Map<string, number>();
    for (const [j, route] of [...l.routes].sort(([a], [b]) => a - b)) {
      const at = `${l.path}.routes[${j}]`;
      if (route.pool !== undefined) {
        used.add(route.pool);
        if (poolNames && !poolNames.includes(route.pool)) {
          const known = poolNames.length > 0 ? poolNames.join(", ") : "none";
          d.report(`${at}.pool`, `no pool named ${quote(route.pool)} (pools: ${known})`);
        }
      }
      if (route.stripPrefix && route.match?.path_prefix === undefined) {
        d.report(`${at}.strip_prefix`, "needs match.path_prefix: there is no prefix to strip");
      }
      const m = route.match ?? {};
      const key = JSON.stringify([
        m.host?.toLowerCase().replace(/\.$/, ""),
        m.path_prefix?.replace(/\/+$/, ""),
        m.methods?.toSorted(),
      ]);
      const first = seen.get(key);
      if (first === undefined) seen.set(key, j);
      else d.warn(at, `never taken: routes[${first}] of this listener has the same match`);
    }
  }
  // A route that failed to decode may name any pool: warn only when every one is known.
  if (poolNames && (!expanded || d.values.has("listeners"))) {
    for (const name of poolNames) {
      if (!used.has(name)) d.warn(`pools.${name}`, "no route uses this pool");
    }
  }
}
