/**
 * A backend as the request path sees it: where to send requests and how much
 * traffic it should get.
 *
 * @module
 */

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
 * Builds a backend from its configuration entry: a URL (http pools), or an
 * address (L4 pools: `url` is then `tcp://host:port`, `id` the address).
 *
 * @example
 * ```ts
 * const b = createBackend({ url: "http://10.0.0.5:8080/api/", weight: 2 });
 * b.base; // "http://10.0.0.5:8080/api"
 * ```
 */
export function createBackend(
  config: { readonly url?: string; readonly address?: string; readonly weight: number },
): Backend {
  if (config.url === undefined) {
    const address = config.address!;
    return { id: address, url: new URL(`tcp://${address}`), base: "", weight: config.weight };
  }
  const url = new URL(config.url);
  const base = `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, "")}`;
  return { id: config.url, url, base, weight: config.weight };
}
