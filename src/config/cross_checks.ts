/**
 * Checks that involve more than one field, run on whatever decoded cleanly:
 * health check timeout against interval, the adaptive range against the
 * rate limit, the admin listener against its token, the transport against
 * upstream.server_name, HSTS preload against its requirements, and duplicate
 * backends. A listener or pool is checked
 * with the values it inherits, when it overrides one of the fields a rule
 * reads; the top-level sections are checked as they are, once.
 *
 * @module
 */

import { classifyAddress, parseIp } from "../net/mod.ts";
import { backendKey, parseHostPort } from "./checks.ts";
import type { Decoder } from "./decoder.ts";
import { clip } from "./echo.ts";
import { HSTS_PRELOAD_MIN_MS } from "./fields_front.ts";

/** A backend that decoded cleanly, and where: L4 addresses as `tcp://host:port`. */
export interface WrittenBackend {
  /** `""` for the top-level `backends`, `pools.NAME` for a pool's. */
  readonly scope: string;
  /** Its path, such as `pools.api.backends[1].url`. */
  readonly path: string;
  readonly url: string;
}

const BACKEND_URL = /^((?:pools\.[^.]+)?)\.?backends\[\d+\]\.(url|address)$/;

/** Every backend URL or address that decoded cleanly, in the order decoded. */
export function backendUrls(d: Decoder): WrittenBackend[] {
  const out: WrittenBackend[] = [];
  for (const [path, value] of d.values) {
    const m = BACKEND_URL.exec(path);
    if (!m) continue;
    const url = m[2] === "url" ? value as string : `tcp://${value as string}`;
    out.push({ scope: m[1]!, path, url });
  }
  return out;
}

/** Reads a field as a scope (`""`, `listeners[0]`, `pools.api`) has it, inherited or its own. */
function reader(d: Decoder) {
  // A field of a section left out (or empty) is only recorded as part of its section's defaults.
  const top = (path: string): unknown => {
    if (d.values.has(path)) return d.values.get(path);
    const dot = path.lastIndexOf(".");
    const section = d.values.get(path.slice(0, dot)) as Record<string, unknown> | undefined;
    return section?.[path.slice(dot + 1)];
  };
  return {
    value: (scope: string, path: string): unknown =>
      (scope ? d.values.get(`${scope}.${path}`) : undefined) ?? top(path),
    /** True when `scope` writes one of `paths` itself (the top level always does). */
    owns: (scope: string, ...paths: string[]): boolean =>
      scope === "" || paths.some((p) => d.present.has(`${scope}.${p}`)),
  };
}

/** Reports every cross-field problem into `d`. */
export function crossChecks(d: Decoder): void {
  const { value, owns } = reader(d);
  const at = (scope: string, path: string) => (scope ? `${scope}.${path}` : path);
  const pools = (d.names.get("pools") ?? []).map((name) => `pools.${name}`);
  const listeners = [...d.values.keys()]
    .map((path) => /^(listeners\[\d+\])\.name$/.exec(path)?.[1])
    .filter((scope): scope is string => scope !== undefined);

  for (const scope of ["", ...pools]) {
    if (!owns(scope, "health_check.interval", "health_check.timeout")) continue;
    const interval = value(scope, "health_check.interval") as number | undefined;
    const timeout = value(scope, "health_check.timeout") as number | undefined;
    if (interval !== undefined && timeout !== undefined && timeout > interval) {
      d.report(at(scope, "health_check.timeout"), "must not exceed health_check.interval");
    }
  }

  const rateKeys = ["adaptive.min_rate", "adaptive.max_rate", "rate_limit.requests_per_second"];
  for (const scope of ["", ...listeners]) {
    if (!owns(scope, ...rateKeys)) continue;
    const min = value(scope, "adaptive.min_rate") as number | undefined;
    const max = value(scope, "adaptive.max_rate") as number | undefined;
    const rps = value(scope, "rate_limit.requests_per_second") as number | undefined;
    if (min !== undefined && max !== undefined && min > max) {
      d.report(at(scope, "adaptive.min_rate"), `${min} is above adaptive.max_rate (${max})`);
    } else if (
      rps !== undefined && min !== undefined && max !== undefined && (rps < min || rps > max)
    ) {
      d.report(
        at(scope, "rate_limit.requests_per_second"),
        `${rps} is outside the adaptive range ${min}–${max} (adaptive.min_rate, adaptive.max_rate)`,
      );
    }
  }

  for (const scope of ["", ...listeners]) {
    if (!owns(scope, "rate_limit.store")) continue;
    // A listener's store replaces the top-level one whole: read its own fields only.
    const own = (path: string) => scope ? d.values.get(at(scope, path)) : value("", path);
    const type = own("rate_limit.store.type") as string | undefined;
    const url = own("rate_limit.store.url") as string | undefined;
    if (type === "redis" && url === "") {
      d.report(
        at(scope, "rate_limit.store.type"),
        "redis needs rate_limit.store.url (for example redis://127.0.0.1:6379)",
      );
    } else if (type === "local" && url) {
      d.report(at(scope, "rate_limit.store.url"), "is set but type is local: set type: redis");
    }
  }

  const workers = value("", "server.workers") as number | "auto" | undefined;
  if (workers !== undefined && workers !== 1) {
    // Worker isolates share buckets in memory; a Redis sync per isolate
    // would count each admission once per isolate's view of the fleet.
    for (const scope of ["", ...listeners]) {
      if (!owns(scope, "rate_limit.store")) continue;
      const own = (path: string) => scope ? d.values.get(at(scope, path)) : value("", path);
      if (own("rate_limit.store.type") === "redis") {
        d.report(
          at(scope, "rate_limit.store.type"),
          `redis cannot be combined with server.workers: ${workers} yet; use workers: 1 with a shared store, or a local store with workers`,
        );
      }
    }
    // A udp listener's NAT sessions are one socket's state.
    for (const scope of listeners) {
      if (d.values.get(`${scope}.protocol`) === "udp") {
        d.report(
          `${scope}.protocol`,
          `udp listeners run in one isolate: use server.workers: 1 with a udp listener (workers is ${workers})`,
        );
      }
    }
  }

  const admin = value("", "admin.address") as string | undefined;
  const token = value("", "admin.token") as string | undefined;
  const adminHost = admin === undefined ? undefined : parseHostPort(admin)?.host;
  // [SECURITY] Unauthorised control: an admin API reachable from other
  // machines must require a token for /reload and /drain.
  if (admin !== undefined && adminHost !== undefined && !isLoopbackHost(adminHost) && !token) {
    d.report(
      "admin.address",
      `${
        clip(admin)
      } is reachable from other machines: set admin.token so that /reload and /drain need it`,
    );
  }

  for (const [path, value] of d.values) {
    if (HSTS.test(path)) hstsChecks(d, path, value as HstsWritten);
  }

  for (const scope of ["", ...pools]) {
    if (!owns(scope, "upstream.transport", "upstream.server_name")) continue;
    if (
      value(scope, "upstream.server_name") === undefined ||
      value(scope, "upstream.transport") !== "fetch"
    ) continue;
    const own = scope === "" || d.present.has(`${scope}.upstream.server_name`);
    d.report(
      at(scope, own ? "upstream.server_name" : "upstream.transport"),
      "server_name needs the h1 transport: the runtime's fetch can only send and verify the URL's own host (use transport h1 or auto)",
    );
  }

  // Backends, pool by pool: the same URL may serve two pools, never twice in one.
  const seen = new Map<string, string>();
  for (const b of backendUrls(d)) {
    const key = `${b.scope} ${backendKey(b.url)}`;
    const first = seen.get(key);
    if (first === undefined) seen.set(key, b.path);
    else d.report(b.path, `duplicate of ${first} (${clip(b.url)})`);
  }
}

const HSTS = /^(?:listeners\[\d+\]\.)?security\.hsts$/;

interface HstsWritten {
  readonly max_age: number;
  readonly include_subdomains: boolean;
  readonly preload: boolean;
}

/**
 * `preload` asks browsers to hard-code the policy; their lists
 * (hstspreload.org) take only one that covers subdomains for a year or more,
 * and a header that asks without meeting them is refused there.
 */
function hstsChecks(d: Decoder, path: string, hsts: HstsWritten): void {
  if (!hsts.preload) return;
  if (!hsts.include_subdomains) {
    d.report(`${path}.preload`, "needs include_subdomains: true (preload covers every subdomain)");
  }
  if (hsts.max_age < HSTS_PRELOAD_MIN_MS) {
    d.report(
      `${path}.preload`,
      `needs max_age of at least a year (8760h); it is ${hsts.max_age / 1000}s`,
    );
  }
}

/** True for `localhost` and loopback addresses: hosts only this machine can reach. */
function isLoopbackHost(host: string): boolean {
  if (host === "localhost") return true;
  const ip = parseIp(host);
  return ip !== undefined && classifyAddress(ip) === "loopback";
}
