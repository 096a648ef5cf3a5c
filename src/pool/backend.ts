/**
 * A backend as the request path sees it: where to send requests (or, on an
 * L4 pool, connections) and how much traffic it should get.
 *
 * @module
 */

/** One configured upstream server. */
export interface Backend {
  /** Stable identity: the configured URL (or `host:port` address), used as the key for runtime state. */
  readonly id: string;
  /** The parsed URL; `tcp://host:port` for an L4 backend. */
  readonly url: URL;
  /**
   * `scheme://host[:port][/prefix]` without a trailing slash: what request
   * targets are appended to. Empty for an L4 backend, which has no requests.
   */
  readonly base: string;
  /** Relative share of traffic. */
  readonly weight: number;
}

/**
 * A backend's configuration entry: an HTTP backend's `url`, or an L4
 * backend's `address` (`host:port`). Structural, so it takes the
 * configuration's entries whichever of the two forms the schema gives them.
 */
export interface BackendEntry {
  /** `http(s)://host[:port][/prefix]`, for an HTTP pool. */
  readonly url?: string;
  /** `host:port` (IPv6 in brackets), for an L4 pool. */
  readonly address?: string;
  /** Relative share of traffic. */
  readonly weight: number;
}

/**
 * Builds a backend from its configuration entry.
 *
 * @throws {TypeError} when the URL does not parse, the address is not a bare
 *   `host:port`, or the entry has neither
 *
 * @example
 * ```ts
 * const b = createBackend({ url: "http://10.0.0.5:8080/api/", weight: 2 });
 * b.base; // "http://10.0.0.5:8080/api"
 * const t = createBackend({ address: "10.0.0.6:5432", weight: 1 });
 * t.url.port; // "5432"
 * ```
 */
export function createBackend(config: BackendEntry): Backend {
  if (config.url !== undefined) {
    const url = new URL(config.url);
    const base = `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, "")}`;
    return { id: config.url, url, base, weight: config.weight };
  }
  if (config.address !== undefined) {
    return { id: config.address, url: addressUrl(config.address), base: "", weight: config.weight };
  }
  throw new TypeError("a backend needs a url or an address");
}

/**
 * `host:port` as a `tcp:` URL, so L4 backends are keyed and read like HTTP
 * ones (`url.hostname`, `url.port`). Anything past the port (a path, a
 * query, user info) is refused: the relay would silently ignore it.
 */
function addressUrl(address: string): URL {
  const url = new URL(`tcp://${address}`);
  if (
    url.port === "" || url.pathname !== "" || url.search !== "" || url.hash !== "" ||
    url.username !== "" || url.password !== ""
  ) {
    throw new TypeError(`not a host:port address: ${address}`);
  }
  return url;
}
