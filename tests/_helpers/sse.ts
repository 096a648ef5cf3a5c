/**
 * A Server-Sent Events reader for tests: reads a `text/event-stream` body
 * message by message, as a browser would (messages end at a blank line;
 * `event:`, `data:` and `retry:` fields; comments skipped).
 *
 * @module
 */

/** One message of the stream. */
export interface SseMessage {
  /** Its `event:` (`message` when it has none). */
  readonly event: string;
  /** Its `data:` lines, joined by line breaks. */
  readonly data: string;
  /** Its `retry:`, when it has one. */
  readonly retry?: number;
}

/** Reads a stream's messages in order; disposing it cancels the body. */
export class SseReader implements AsyncDisposable {
  readonly #reader: ReadableStreamDefaultReader<string>;
  #buffer = "";

  constructor(body: ReadableStream<Uint8Array>) {
    this.#reader = body.pipeThrough(new TextDecoderStream()).getReader();
  }

  /** The next message, or `undefined` once the stream has ended. */
  async next(): Promise<SseMessage | undefined> {
    for (;;) {
      const end = this.#buffer.indexOf("\n\n");
      if (end >= 0) {
        const block = this.#buffer.slice(0, end);
        this.#buffer = this.#buffer.slice(end + 2);
        const message = parse(block);
        if (message) return message;
        continue;
      }
      const { done, value } = await this.#reader.read();
      if (done) return undefined;
      this.#buffer += value.replaceAll("\r\n", "\n");
    }
  }

  /** The next message's data as JSON, after checking that it is an `event` message. */
  async json<T>(event: string): Promise<T> {
    const message = await this.next();
    if (message === undefined) throw new Error(`the stream ended before a ${event} message`);
    if (message.event !== event) throw new Error(`expected ${event}, got ${message.event}`);
    return JSON.parse(message.data);
  }

  /** Reads until the stream ends; returns how many messages were left. */
  async drain(): Promise<number> {
    let n = 0;
    while (await this.next()) n++;
    return n;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.#reader.cancel().catch(() => {});
  }
}

function parse(block: string): SseMessage | undefined {
  let event = "message";
  const data: string[] = [];
  let retry: number | undefined;
  for (const line of block.split("\n")) {
    if (line.startsWith(":")) continue;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
    if (field === "event") event = value;
    else if (field === "data") data.push(value);
    else if (field === "retry" && /^\d+$/.test(value)) retry = Number(value);
  }
  if (data.length === 0) return undefined;
  return { event, data: data.join("\n"), ...(retry === undefined ? {} : { retry }) };
}
