/**
 * `rate_limit.store.url`: the Redis (or Valkey) server shared limits live
 * in. It may carry a password (`redis://:secret@host:6379`), so it is
 * treated as a secret: messages about it never repeat it, and it is printed
 * (by `aegis check` and `GET /status`) with the password replaced.
 *
 * @module
 */

import { clip } from "./echo.ts";
import { str } from "./scalars.ts";
import type { Field } from "./schema.ts";

/** What a redacted password reads as. */
const REDACTED = "<redacted>";

/**
 * Checks a Redis URL: `redis://` or `rediss://` (TLS), a host, an explicit
 * port, at most a database number as its path, no query or fragment.
 * Credentials are allowed; the message never quotes the URL.
 */
export function checkRedisUrl(text: string): string | undefined {
  if (text === "") return undefined;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return "is not a URL (for example redis://127.0.0.1:6379)";
  }
  if (url.protocol !== "redis:" && url.protocol !== "rediss:") {
    return `scheme must be redis or rediss, not ${clip(url.protocol.slice(0, -1))}`;
  }
  if (url.hostname === "") return "has no host (for example redis://127.0.0.1:6379)";
  if (url.port === "") return "needs a port (for example redis://127.0.0.1:6379)";
  if (!/^\/?(\d+)?$/.test(url.pathname)) return "path must be a database number, such as /0";
  if (url.search !== "" || url.hash !== "" || text.includes("?") || text.includes("#")) {
    return "must not have a query string or fragment";
  }
  return undefined;
}

/**
 * `url` with the password of its `user:password@` replaced.
 *
 * @example
 * ```ts
 * redactRedisUrl("redis://app:hunter2@cache:6379/0"); // "redis://app:<redacted>@cache:6379/0"
 * ```
 */
export function redactRedisUrl(url: string): string {
  // [SECURITY] Secret leaks: the resolved configuration is printed and served.
  return url.replace(/^([a-z]+:\/\/)([^@/]*)@/i, (_, scheme: string, userinfo: string) => {
    const colon = userinfo.indexOf(":");
    return `${scheme}${colon < 0 ? REDACTED : `${userinfo.slice(0, colon)}:${REDACTED}`}@`;
  });
}

/** The `url` field of `rate_limit.store`. */
export function redisUrlField(doc: string): Field<string> {
  return { ...str({ doc, default: "", check: checkRedisUrl }), print: redactRedisUrl };
}
