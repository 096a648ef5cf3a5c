/**
 * A small OTLP/HTTP collector for tests: `Deno.serve` on 127.0.0.1 and an
 * ephemeral port, decoding the OTLP/JSON trace exports it receives into
 * plain spans. It can be told to fail (answer a status) or to hang.
 *
 * @module
 */

/** An attribute value as OTLP/JSON writes it. */
interface AnyValue {
  stringValue?: string;
  intValue?: string | number;
  doubleValue?: number;
  boolValue?: boolean;
}

type Attributes = Record<string, string | number | boolean>;

/** One span, decoded. */
export interface ReceivedSpan {
  readonly traceId: string;
  readonly spanId: string;
  /** Empty for a root span. */
  readonly parentSpanId: string;
  readonly name: string;
  /** OTLP `SpanKind`: 2 is SERVER. */
  readonly kind: number;
  readonly attributes: Attributes;
  readonly events: ReadonlyArray<{ readonly name: string; readonly attributes: Attributes }>;
  /** OTLP status code: 0 unset, 1 ok, 2 error. */
  readonly statusCode: number;
  /** The resource's attributes (`service.name`…). */
  readonly resource: Attributes;
}

/** OTLP `SpanKind.SPAN_KIND_SERVER`. */
export const SPAN_KIND_SERVER = 2;

/** A running test collector. */
export interface TestCollector extends AsyncDisposable {
  /** The traces endpoint: `http://127.0.0.1:port/v1/traces`. */
  readonly endpoint: string;
  /** Every span received, in order. */
  readonly spans: ReceivedSpan[];
  /** Export requests received (answered or not). */
  readonly requests: number;
  /** From now on: answer this status (`200` is success), or `"hang"` to never answer. */
  answer(how: number | "hang"): void;
  /** Resolves once at least `n` spans arrived; rejects after `timeoutMs` (10 s by default). */
  waitForSpans(n: number, timeoutMs?: number): Promise<ReceivedSpan[]>;
  close(): Promise<void>;
}

function decodeAttributes(list: Array<{ key: string; value: AnyValue }> | undefined): Attributes {
  const out: Attributes = {};
  for (const { key, value } of list ?? []) {
    if (value.stringValue !== undefined) out[key] = value.stringValue;
    else if (value.intValue !== undefined) out[key] = Number(value.intValue);
    else if (value.doubleValue !== undefined) out[key] = value.doubleValue;
    else if (value.boolValue !== undefined) out[key] = value.boolValue;
  }
  return out;
}

// deno-lint-ignore no-explicit-any
function decodeExport(body: any): ReceivedSpan[] {
  const out: ReceivedSpan[] = [];
  for (const rs of body.resourceSpans ?? []) {
    const resource = decodeAttributes(rs.resource?.attributes);
    for (const ss of rs.scopeSpans ?? []) {
      for (const s of ss.spans ?? []) {
        out.push({
          traceId: s.traceId,
          spanId: s.spanId,
          parentSpanId: s.parentSpanId ?? "",
          name: s.name,
          kind: s.kind,
          attributes: decodeAttributes(s.attributes),
          // deno-lint-ignore no-explicit-any
          events: (s.events ?? []).map((e: any) => ({
            name: e.name,
            attributes: decodeAttributes(e.attributes),
          })),
          statusCode: s.status?.code ?? 0,
          resource,
        });
      }
    }
  }
  return out;
}

/** Starts a collector that accepts every export (answers `200 {}`) until told otherwise. */
export function startCollector(): TestCollector {
  const spans: ReceivedSpan[] = [];
  let requests = 0;
  let how: number | "hang" = 200;
  const waiters: Array<{ n: number; resolve: (s: ReceivedSpan[]) => void }> = [];
  const hung = new AbortController();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {}, signal: hung.signal },
    async (request) => {
      requests++;
      const text = await request.text();
      if (how === "hang") {
        // Never answers: held until the collector closes.
        await new Promise((resolve) => hung.signal.addEventListener("abort", resolve));
        return new Response(null, { status: 503 });
      }
      if (how !== 200) return new Response("no", { status: how });
      if (request.headers.get("content-type") !== "application/json") {
        return new Response("json only", { status: 415 });
      }
      spans.push(...decodeExport(JSON.parse(text)));
      for (const w of waiters.filter((w) => spans.length >= w.n)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(spans);
      }
      return Response.json({});
    },
  );
  const close = async () => {
    hung.abort();
    await server.finished;
  };
  return {
    endpoint: `http://127.0.0.1:${server.addr.port}/v1/traces`,
    spans,
    get requests() {
      return requests;
    },
    answer(next) {
      how = next;
    },
    waitForSpans(n, timeoutMs = 10_000) {
      if (spans.length >= n) return Promise.resolve(spans);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.splice(waiters.indexOf(waiter), 1);
          reject(new Error(`${spans.length} spans arrived, not ${n}`));
        }, timeoutMs);
        const waiter = {
          n,
          resolve: (s: ReceivedSpan[]) => {
            clearTimeout(timer);
            resolve(s);
          },
        };
        waiters.push(waiter);
      });
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}
