/**
 * The fleet's buckets in Redis (or Valkey), through `npm:@redis/client`,
 * loaded only when a listener asks for it.
 *
 * One Lua script debits a whole sync atomically: per client, a hash
 * `aegis:rl:<listener>:<client>` holding the tokens and when they were
 * counted, refilled from Redis's own clock (`TIME`), so instances whose
 * clocks disagree still agree on the refill. Each key expires when its
 * bucket would be full again, which is when it no longer differs from an
 * absent one: Redis holds only clients that spent something lately.
 *
 * The client is set up so that an outage costs nothing on the way: no
 * offline queue (a command while disconnected fails at once instead of
 * waiting for the connection), reconnection in the background with a
 * capped back-off, and no cluster maintenance handshake (it would read
 * environment variables the binary is not allowed to).
 *
 * @module
 */

import type { SharedRefill, SharedStore } from "./shared_sync.ts";

/**
 * Refills each bucket to Redis's time, debits what was admitted, and
 * returns the tokens left (as strings: Lua numbers would be truncated).
 * KEYS: the buckets; ARGV: rate, burst, then one count per key.
 */
const SPEND = `
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local left = {}
for i, key in ipairs(KEYS) do
  local held = redis.call('HMGET', key, 'tokens', 'at')
  local tokens = tonumber(held[1]) or burst
  local at = tonumber(held[2]) or now
  if now > at then
    tokens = math.min(burst, tokens + (now - at) * rate / 1000)
    at = now
  end
  tokens = tokens - tonumber(ARGV[i + 2])
  redis.call('HSET', key, 'tokens', tostring(tokens), 'at', tostring(at))
  redis.call('PEXPIRE', key, math.ceil((burst - tokens) * 1000 / rate) + 1000)
  left[i] = tostring(tokens)
end
return left
`;

/** The longest wait between two reconnection attempts, ms. */
const MAX_RECONNECT_DELAY_MS = 1000;

/** Options for {@linkcode RedisStore}. */
export interface RedisStoreOptions {
  /** `redis://[user:password@]host:port[/db]`, or `rediss://` for TLS. */
  readonly url: string;
  /** The listener whose buckets these are: the keys' namespace. */
  readonly listener: string;
  /** How long a connection attempt may take, ms. */
  readonly connectTimeoutMs: number;
}

/** The part of the Redis client this store uses. */
interface Client {
  readonly isReady: boolean;
  on(event: "error", listener: (e: Error) => void): unknown;
  on(event: "ready", listener: () => void): unknown;
  connect(): Promise<unknown>;
  eval(script: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
  ping(): Promise<unknown>;
  destroy(): void;
}

/** A connected store; see the module doc. */
export class RedisStore implements SharedStore {
  readonly #options: RedisStoreOptions;
  readonly #prefix: string;
  #client: Promise<Client>;
  #lastError: string | undefined;
  #connecting = true;
  #closed = false;

  constructor(options: RedisStoreOptions) {
    this.#options = options;
    this.#prefix = `aegis:rl:${options.listener}:`;
    this.#client = this.#open();
  }

  /** True until the first connection attempt has ended. */
  get connecting(): boolean {
    return this.#connecting;
  }

  /** See {@linkcode SharedStore.spend}. */
  async spend(
    admitted: ReadonlyArray<readonly [string, number]>,
    refill: SharedRefill,
  ): Promise<number[]> {
    const client = await this.#ready();
    const left = await client.eval(SPEND, {
      keys: admitted.map(([key]) => this.#prefix + key),
      arguments: [String(refill.rate), String(refill.burst), ...admitted.map(([, n]) => String(n))],
    });
    if (!Array.isArray(left) || left.length !== admitted.length) {
      throw new Error("unexpected answer from the rate limit script");
    }
    return left.map(Number);
  }

  /** See {@linkcode SharedStore.ping}. */
  async ping(): Promise<void> {
    await (await this.#ready()).ping();
  }

  /** See {@linkcode SharedStore.reset}. */
  reset(): void {
    const old = this.#client;
    this.#client = this.#open();
    old.then((c) => c.destroy(), () => {});
  }

  /** Closes the connection (and stops reconnecting). */
  async [Symbol.asyncDispose](): Promise<void> {
    this.#closed = true;
    try {
      (await this.#client).destroy();
    } catch {
      // The library failed to load: nothing is open.
    }
  }

  /** The client, if it is connected now; otherwise why not. */
  async #ready(): Promise<Client> {
    const client = await this.#client;
    if (!client.isReady) throw new Error(this.#lastError ?? "not connected");
    return client;
  }

  #open(): Promise<Client> {
    const opening = this.#load();
    // Whoever needs the client awaits it and sees the failure; this one is not an unhandled one.
    opening.catch(() => {});
    return opening;
  }

  async #load(): Promise<Client> {
    try {
      // Loaded here, so that an Aegis without a shared store never loads it.
      const { createClient } = await import("@redis/client");
      const client = createClient({
        url: this.#options.url,
        disableOfflineQueue: true,
        maintNotifications: "disabled",
        socket: {
          connectTimeout: this.#options.connectTimeoutMs,
          reconnectStrategy: (retries: number) =>
            Math.min(50 * 2 ** Math.min(retries, 10), MAX_RECONNECT_DELAY_MS),
        },
      }) as unknown as Client;
      client.on("error", (e) => {
        this.#lastError = e.message;
        this.#connecting = false;
      });
      client.on("ready", () => {
        this.#lastError = undefined;
        this.#connecting = false;
      });
      // Retries by itself until it connects, or until destroyed (which rejects).
      client.connect().catch(() => {});
      if (this.#closed) client.destroy();
      return client;
    } catch (e) {
      this.#connecting = false;
      this.#lastError = `cannot load the Redis client: ${e instanceof Error ? e.message : e}`;
      throw new Error(this.#lastError);
    }
  }
}
