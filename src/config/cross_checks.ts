/**
 * Checks that involve more than one field, run on whatever decoded cleanly:
 * health check timeout against interval, the adaptive range against the
 * rate limit, the admin listener against its token, the transport against
 * backend schemes, and duplicate backends.
 *
 * @module
 */

import { classifyAddress, parseIp } from "../net/mod.ts";
import { backendKey, parseHostPort } from "./checks.ts";
import type { Decoder } from "./decoder.ts";
import { clip } from "./echo.ts";

/** Reports every cross-field problem into `d`. */
export function crossChecks(d: Decoder): void {
  // A field of a section left out (or empty) is only recorded as part of its section's defaults.
  const num = (path: string): number | undefined => {
    if (d.values.has(path)) return d.values.get(path) as number;
    const dot = path.lastIndexOf(".");
    const section = d.values.get(path.slice(0, dot)) as Record<string, unknown> | undefined;
    return section?.[path.slice(dot + 1)] as number | undefined;
  };
  const interval = num("health_check.interval");
  const timeout = num("health_check.timeout");
  if (interval !== undefined && timeout !== undefined && timeout > interval) {
    d.report("health_check.timeout", "must not exceed health_check.interval");
  }
  const min = num("adaptive.min_rate");
  const max = num("adaptive.max_rate");
  if (min !== undefined && max !== undefined && min > max) {
    d.report("adaptive.min_rate", `${min} is above adaptive.max_rate (${max})`);
  }
  const rps = num("rate_limit.requests_per_second");
  if (
    rps !== undefined && min !== undefined && max !== undefined && min <= max &&
    (rps < min || rps > max)
  ) {
    d.report(
      "rate_limit.requests_per_second",
      `${rps} is outside the adaptive range ${min}–${max} (adaptive.min_rate, adaptive.max_rate)`,
    );
  }
  const admin = d.values.get("admin.address") as string | undefined ??
    (d.values.get("admin") as { address?: string } | undefined)?.address;
  const token = d.values.get("admin.token") as string | undefined ??
    (d.values.get("admin") as { token?: string } | undefined)?.token;
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
  const transport = d.values.get("upstream.transport") ??
    (d.values.get("upstream") as { transport?: string } | undefined)?.transport;
  const urls = backendUrls(d);
  if (transport === "h1") {
    for (const [i, url] of urls) {
      if (url.startsWith("https:")) {
        d.report(
          `backends[${i}].url`,
          "upstream.transport h1 speaks plain http only; use auto or fetch for https backends",
        );
      }
    }
  }
  const seen = new Map<string, number>();
  for (const [i, url] of urls) {
    const key = backendKey(url);
    const first = seen.get(key);
    if (first === undefined) seen.set(key, i);
    else d.report(`backends[${i}].url`, `duplicate of backends[${first}].url (${clip(url)})`);
  }
}

/** Every backend URL that decoded cleanly, with its index. */
export function backendUrls(d: Decoder): Array<[number, string]> {
  const out: Array<[number, string]> = [];
  for (const [path, value] of d.values) {
    const m = /^backends\[(\d+)\]\.url$/.exec(path);
    if (m) out.push([Number(m[1]), value as string]);
  }
  return out;
}

/** True for `localhost` and loopback addresses: hosts only this machine can reach. */
function isLoopbackHost(host: string): boolean {
  if (host === "localhost") return true;
  const ip = parseIp(host);
  return ip !== undefined && classifyAddress(ip) === "loopback";
}
