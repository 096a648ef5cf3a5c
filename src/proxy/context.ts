/**
 * Per-request state and the phase contract of the request path.
 *
 * @module
 */

import type { Backend } from "../pool/mod.ts";
import type { ClientInfo, HeaderList } from "../core/mod.ts";
import type { RequestSpan } from "../tracing/mod.ts";
import type { RequestTarget } from "./target.ts";
import type { Upstream } from "./upstream.ts";

/** Per-request state shared by the phases. */
export interface RequestContext {
  /** The client's request. */
  readonly request: Request;
  /** Its header fields, read once: every walk over a `Headers` object is costly. */
  readonly fields: HeaderList;
  /** The client connection. */
  readonly client: ClientInfo;
  /** The raw request target, as the client sent it. */
  readonly target: RequestTarget;
  /** Propagated or generated `X-Request-ID`. */
  readonly requestId: string;
  /** When handling began, on the proxy clock. */
  readonly started: number;
  /** Its part in a trace: ended with the access-log line. */
  readonly span: RequestSpan;
  /** The pool routing chose, once it did. */
  upstream?: Upstream;
  /** The backend chosen last, once one is. */
  backend?: Backend;
  /** Why the request was refused or failed, for the access log. */
  reason?: string;
}

/** A step of the request path: answers the request, or lets it continue. */
export type Phase = (ctx: RequestContext) => Response | undefined | Promise<Response | undefined>;
