/**
 * A backend as the request path sees it: where to send requests and how much
 * traffic it should get.
 *
 * @module
 */

import type { BackendConfig } from "../config/mod.ts";

/** One configured upstream server. */
export interface Backend {
  /** Stable identity: the configured URL, used as the key for runtime state. */
  readonly id: string;
  /** The parsed URL. */
  readonly url: URL;
  /** `scheme://host[:port][/prefix]` without a trailing slash: what request targets are appended to. */
  readonly base: string;
  /** Relative share of traffic. */
  readonly weight: number;
}

/**
 * Builds a backend from its configuration entry.
 *
 * @example
 * ```ts
 * const b = createBackend({ url: "http://10.0.0.5:8080/api/", weight: 2 });
 * b.base; // "http://10.0.0.5:8080/api"
 * ```
 */
export function createBackend(config: BackendConfig): Backend {
  const url = new URL(config.url);
  const base = `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, "")}`;
  return { id: config.url, url, base, weight: config.weight };
}
