/**
 * Checks of the topology: how listeners, routes and pools fit together, and
 * whether the two configuration forms were mixed. Run on whatever decoded
 * cleanly, so that one broken field does not hide these problems.
 *
 * - `listeners` replaces `server.host`/`server.port`, and `pools` replaces
 *   the top-level `backends`: writing both is an error at the key that goes;
 * - a listener name is unique, and no two listeners (nor the admin API,
 *   nor the metrics listener) share an address;
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
  readonly protocol?: string;
  readonly pool?: string;
  readonly routes: Map<number, WrittenRoute>;
}

interface WrittenRoute {
  pool?: string;
  stripPrefix?: boolean;
  match?: { host?: string; path_prefix?: string; methods?: string[] };
}

const LISTENER_FIELD = /^listeners\[(\d+)\]\.(name|address|protocol|pool)$/;
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

/** Which socket family a listener binds: http and tcp listeners share TCP ports, udp has its own. */
function family(protocol: string | undefined): "tcp" | "udp" {
  return protocol === "udp" ? "udp" : "tcp";
}

/** The kinds of backends each pool has, and where a backend is neither or both. */
function poolKinds(d: Decoder): Map<string, { url: string[]; address: string[] }> {
  const kinds = new Map<string, { url: string[]; address: string[] }>();
  for (const [path, value] of d.values) {
    const m = /^(?:pools\.([^.]+)\.)?backends\[\d+\]$/.exec(path);
    if (!m) continue;
    const b = value as { url?: string; address?: string };
    const pool = m[1] ?? DEFAULT_NAME;
    const kind = kinds.get(pool) ?? { url: [], address: [] };
    kinds.set(pool, kind);
    if (b.url !== undefined && b.address !== undefined) {
      d.report(
        `${path}.address`,
        "a backend has a url (http pools) or an address (L4 pools), not both",
      );
    } else if (b.url === undefined && b.address === undefined) {
      d.report(path, "needs a url (http pools) or an address (L4 pools: tcp and udp listeners)");
    } else if (b.url !== undefined) kind.url.push(path);
    else kind.address.push(path);
  }
  for (const [pool, kind] of kinds) {
    if (kind.url.length > 0 && kind.address.length > 0) {
      const [minority, other] = kind.address.length <= kind.url.length
        ? [kind.address, "url"]
        : [kind.url, "address"];
      d.report(
        minority[0]!,
        `pool ${
          quote(pool)
        } mixes url and address backends: a pool serves http listeners (url) or L4 listeners (address); give every backend an ${other}`,
      );
    }
  }
  return kinds;
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
  const kinds = poolKinds(d);
  const l4Pool = (name: string) => (kinds.get(name)?.address.length ?? 0) > 0;
  if (!pooled && l4Pool(DEFAULT_NAME)) {
    d.report(
      kinds.get(DEFAULT_NAME)!.address[0]! + ".address",
      "the top-level backends serve the flat form's http listener: give each a url, or declare listeners and pools for L4",
    );
  }
  /** Bound addresses so far: where, which address, which socket family. */
  const addresses: Array<[string, string, "tcp" | "udp"]> = [];
  if (!expanded) {
    const host = d.values.get("server.host") ?? (d.values.get("server") as { host?: string })?.host;
    const port = d.values.get("server.port") ?? (d.values.get("server") as { port?: number })?.port;
    if (typeof host === "string" && typeof port === "number") {
      addresses.push(["server.port", joinHostPort(host, port), "tcp"]);
    }
  }
  for (const l of listeners) {
    if (l.name !== undefined) {
      const first = names.get(l.name);
      if (first) d.report(`${l.path}.name`, `duplicate of ${first}.name (${quote(l.name)})`);
      else names.set(l.name, l.path);
    }
    if (l.address !== undefined) {
      const f = family(l.protocol);
      const other = addresses.find(([, a, g]) => g === f && clash(a, l.address!));
      if (other) {
        d.report(
          `${l.path}.address`,
          `${quote(l.address)} is taken by ${other[0].replace(/\.address$/, "")} (${other[1]})`,
        );
      } else addresses.push([`${l.path}.address`, l.address, f]);
    }
    l4Checks(d, l, poolNames, l4Pool);
  }
  // The admin API's listener, then the metrics listener: free of every listener and of each other.
  const admin = d.values.get("admin") as Record<string, unknown> | undefined;
  for (const key of ["address", "metrics_address"]) {
    const path = `admin.${key}`;
    const address = d.values.get(path) ?? admin?.[key];
    // The metrics listener's "" is off: it binds nothing.
    if (typeof address !== "string" || address === "") continue;
    const taken = addresses.find(([, a, f]) => f === "tcp" && clash(a, address));
    if (taken) d.report(path, `${quote(address)} is taken by ${taken[0]} (${taken[1]})`);
    else addresses.push([path, address, "tcp"]);
  }

  const used = new Set<string>(expanded ? [] : [DEFAULT_NAME]);
  for (const l of listeners) {
    if (l.pool !== undefined) used.add(l.pool);
    const seen = new Map<string, number>();
    for (const [j, route] of [...l.routes].sort(([a], [b]) => a - b)) {
      const at = `${l.path}.routes[${j}]`;
      if (route.pool !== undefined) {
        used.add(route.pool);
        if (poolNames && !poolNames.includes(route.pool)) {
          const known = poolNames.length > 0 ? poolNames.join(", ") : "none";
          d.report(`${at}.pool`, `no pool named ${quote(route.pool)} (pools: ${known})`);
        } else if (l4Pool(route.pool)) {
          d.report(
            `${at}.pool`,
            `pool ${
              quote(route.pool)
            } has address backends, for tcp and udp listeners; an http listener's routes need a pool of url backends`,
          );
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

/**
 * What a listener's protocol asks of it: an http listener routes requests
 * (`routes`, no `pool`); a tcp or udp listener forwards everything to one
 * pool of address backends (`pool`, no `routes`). The PROXY protocol is
 * accepted on tcp listeners, `udp` belongs to udp listeners, `tls` and
 * `websocket` to http listeners.
 */
function l4Checks(
  d: Decoder,
  l: WrittenListener,
  poolNames: readonly string[] | undefined,
  l4Pool: (name: string) => boolean,
): void {
  const protocol = l.protocol ?? "http";
  const has = (key: string) => d.present.has(`${l.path}.${key}`);
  if (protocol === "http") {
    if (has("pool")) {
      d.report(
        `${l.path}.pool`,
        "is for tcp and udp listeners; an http listener sends requests by its routes",
      );
    }
    if (has("redirect_to_https")) redirectChecks(d, l.path, has);
    else if (!has("routes")) {
      d.report(`${l.path}.routes`, "is required for an http listener");
    }
  } else {
    if (has("routes")) {
      d.report(
        `${l.path}.routes`,
        `a ${protocol} listener forwards to one pool: write pool: NAME instead of routes`,
      );
    }
    if (l.pool === undefined && !has("pool")) {
      d.report(`${l.path}.pool`, `is required for a ${protocol} listener`);
    }
    if (l.pool !== undefined && poolNames) {
      if (!poolNames.includes(l.pool)) {
        const known = poolNames.length > 0 ? poolNames.join(", ") : "none";
        d.report(`${l.path}.pool`, `no pool named ${quote(l.pool)} (pools: ${known})`);
      } else if (!l4Pool(l.pool)) {
        d.report(
          `${l.path}.pool`,
          `pool ${
            quote(l.pool)
          } has url backends; a ${protocol} listener needs a pool of address backends (address: host:port)`,
        );
      }
    }
  }
  const proxied = d.values.get(`${l.path}.accept_proxy_protocol`) as string[] | undefined;
  if (protocol !== "tcp" && has("accept_proxy_protocol") && (proxied?.length ?? 0) > 0) {
    d.report(
      `${l.path}.accept_proxy_protocol`,
      "the PROXY protocol is accepted on tcp listeners only",
    );
  }
  if (protocol !== "udp" && has("udp")) d.report(`${l.path}.udp`, "is for udp listeners only");
  if (protocol !== "http" && has("websocket")) {
    d.report(
      `${l.path}.websocket`,
      `is for http listeners only; a ${protocol} listener forwards bytes as they come (a WebSocket passes through as any connection)`,
    );
  }
  if (protocol !== "http" && has("redirect_to_https")) {
    d.report(`${l.path}.redirect_to_https`, "is for http listeners only");
  }
  if (protocol !== "http" && has("tls")) {
    d.report(
      `${l.path}.tls`,
      `is for http listeners only; a ${protocol} listener forwards bytes as they come (TLS passes through to the backend)`,
    );
  }
}

/**
 * A redirect listener answers every request itself, in plain HTTP: it
 * takes no routes (there is nothing to forward), and no `tls` (a client
 * that reached it over TLS is on https already).
 */
function redirectChecks(d: Decoder, path: string, has: (key: string) => boolean): void {
  if (has("routes")) {
    d.report(
      `${path}.routes`,
      "a listener with redirect_to_https answers every request with a redirect: remove its routes",
    );
  }
  if (has("tls")) {
    d.report(
      `${path}.redirect_to_https`,
      "is for a plain-HTTP listener; this one has tls, so its clients are on https already",
    );
  }
}
