/**
 * Cost of `RateLimiter.check()` on the request path: a client whose bucket
 * exists, and a stream of new clients arriving at the cap (each one evicts).
 * Most cases use a clock that only counts, to time the limiter itself; one
 * repeats the first case on the system clock, whose `performance.now()` is
 * a large share of the real cost.
 *
 * @module
 */

import { type Clock, systemClock } from "../../src/clock/mod.ts";
import { parseCidr } from "../../src/net/mod.ts";
import { RateLimiter } from "../../src/limit/mod.ts";

const CAP = 10_000;

/** Distinct IPv4 addresses in 10.0.0.0/8, made up front so the bench times only check(). */
function ipv4s(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
}

/** Distinct /64 networks, so each address is a new client. */
function ipv6s(n: number): string[] {
  return Array.from(
    { length: n },
    (_, i) => `2001:db8:${(i >> 16).toString(16)}:${(i & 0xffff).toString(16)}::1`,
  );
}

/** A clock that advances 1 µs per reading and never fires timers. */
function countingClock(): Clock {
  let now = 0;
  return { now: () => (now += 0.001), setTimer: () => ({ cancel() {} }) };
}

/** A limiter that never refuses in practice, filled to the cap. */
function fullLimiter(options: { exempt?: boolean; clock?: Clock } = {}): RateLimiter {
  const limiter = new RateLimiter({
    rate: 1e9,
    burst: 1e9,
    maxClients: CAP,
    clock: options.clock ?? countingClock(),
    exempt: options.exempt ? [parseCidr("192.0.2.0/24")!] : [],
  });
  for (const ip of ipv4s(CAP)) limiter.check(`172.16.${ip.slice(3)}`);
  return limiter;
}

{
  const limiter = fullLimiter();
  limiter.check("10.0.0.1");
  Deno.bench("check(): existing IPv4 client", { group: "existing", baseline: true }, () => {
    limiter.check("10.0.0.1");
  });
}

{
  const limiter = fullLimiter({ clock: systemClock });
  limiter.check("10.0.0.1");
  Deno.bench("check(): existing IPv4 client, system clock", { group: "existing" }, () => {
    limiter.check("10.0.0.1");
  });
}

{
  const limiter = fullLimiter();
  limiter.check("2001:db8:1:2::1");
  Deno.bench("check(): existing IPv6 client (/64 key remembered)", { group: "existing" }, () => {
    limiter.check("2001:db8:1:2::1");
  });
}

{
  const limiter = fullLimiter({ exempt: true });
  limiter.check("10.0.0.1");
  Deno.bench("check(): existing IPv4 client, exempt list set", { group: "existing" }, () => {
    limiter.check("10.0.0.1");
  });
}

{
  // 4 × CAP addresses cycled: by the time one comes round again it was evicted.
  const ips = ipv4s(4 * CAP);
  const limiter = fullLimiter();
  let i = 0;
  Deno.bench("check(): new IPv4 client at the cap", { group: "new", baseline: true }, () => {
    limiter.check(ips[i++ % ips.length]!);
  });
}

{
  const ips = ipv6s(4 * CAP);
  const limiter = fullLimiter();
  let i = 0;
  Deno.bench("check(): new IPv6 client at the cap", { group: "new" }, () => {
    limiter.check(ips[i++ % ips.length]!);
  });
}
