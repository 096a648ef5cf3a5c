/**
 * The entry point of the worker that decodes configuration text, so that a
 * slow or hostile file costs a worker's time and never the event loop that
 * serves requests, the admin API and signals. It receives one
 * {@linkcode DecodeRequest}, answers one {@linkcode DecodeReply}, and is
 * terminated by `decode_off_thread.ts`.
 *
 * `deno compile` only embeds a worker's module when told to: the `compile`
 * task in deno.json names this file with `--include`.
 *
 * @module
 */

import { decodeConfig, type DecodedConfig } from "./decode.ts";

/** What the worker is sent: the whole file as text. */
export interface DecodeRequest {
  readonly text: string;
}

/** What the worker answers: the decoded result, or why it could not decode. */
export type DecodeReply =
  | { readonly ok: true; readonly decoded: DecodedConfig }
  | { readonly ok: false; readonly error: string };

/** The part of a worker's global scope this module uses. */
interface WorkerScope {
  onmessage: ((event: MessageEvent<DecodeRequest>) => void) | null;
  postMessage(reply: DecodeReply): void;
}

// Typed by hand: the "deno.worker" lib would clash with "deno.window" in
// a type check that covers the whole program.
const scope = globalThis as unknown as WorkerScope;

scope.onmessage = (event) => {
  let reply: DecodeReply;
  try {
    reply = { ok: true, decoded: decodeConfig(event.data.text) };
  } catch (e) {
    // decodeConfig reports bad input as diagnostics; this is a bug or the
    // parser running out of stack on absurd nesting.
    reply = { ok: false, error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) };
  }
  scope.postMessage(reply);
};
