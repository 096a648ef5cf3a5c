/**
 * How a handler tells the listener that its response upgraded the
 * connection (a WebSocket `101`): the connection then lives on past the
 * exchange, until the session ends. The listener keeps counting it against
 * its connection caps, waits for it when draining, and closes the session
 * when the shutdown grace runs out. A side table keyed by the response,
 * so the handler's fetch-shaped signature stays as it is.
 *
 * @module
 */

/** An upgraded connection after its `101`, as the listener sees it. */
export interface UpgradedSession {
  /** Settles once the session is over on both sides. */
  readonly ended: Promise<unknown>;
  /** Ends the session now (a WebSocket close with `code`, `1001` at shutdown). */
  close(code: number, reason: string): void;
}

const sessions = new WeakMap<Response, UpgradedSession>();

/**
 * Marks `response` as the one that upgraded its connection to `session`.
 *
 * @example
 * ```ts
 * return markUpgraded(response, { ended: session.ended, close: session.close });
 * ```
 */
export function markUpgraded(response: Response, session: UpgradedSession): Response {
  sessions.set(response, session);
  return response;
}

/** The session `response` upgraded its connection to, if it did. */
export function upgradedSession(response: Response): UpgradedSession | undefined {
  return sessions.get(response);
}
