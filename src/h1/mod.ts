/**
 * The pooled HTTP/1.1 upstream transport and its strict wire format.
 *
 * @module
 */

export { type H1Options, type H1PoolView, type H1Transport, h1Transport } from "./transport.ts";
export { HostPool, type PoolLimits } from "./pool.ts";
export { type Framing, parseResponseHead, type ResponseHead } from "./parse.ts";
export { ChunkedDecoder } from "./chunked.ts";
export { encodeChunk, LAST_CHUNK, serializeRequestHead } from "./serialize.ts";
export { H1ProtocolError } from "./errors.ts";
