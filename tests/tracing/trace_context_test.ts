/** W3C Trace Context: what is read from a client, what is refused, what is cut. */

import assert from "node:assert/strict";
import {
  cleanTracestate,
  formatTraceparent,
  incomingTrace,
  parseTraceparent,
  TRACESTATE_MAX_LENGTH,
  TRACESTATE_MAX_MEMBERS,
} from "../../src/tracing/mod.ts";

const TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
const SPAN_ID = "00f067aa0ba902b7";
const VALID = `00-${TRACE_ID}-${SPAN_ID}-01`;

Deno.test("parseTraceparent() reads a version 00 header and its sampled flag", () => {
  assert.deepEqual(parseTraceparent(VALID), { traceId: TRACE_ID, spanId: SPAN_ID, sampled: true });
  assert.equal(parseTraceparent(`00-${TRACE_ID}-${SPAN_ID}-00`)?.sampled, false);
  // Flags other than sampled are ignored, not refused.
  assert.equal(parseTraceparent(`00-${TRACE_ID}-${SPAN_ID}-03`)?.sampled, true);
});

Deno.test("parseTraceparent() refuses every value the spec calls invalid", async (t) => {
  const invalid: Record<string, string> = {
    "empty": "",
    "too short": VALID.slice(0, -1),
    "version 00 with an extra field": `${VALID}-00`,
    "version 00 with trailing text": `${VALID}x`,
    "version ff": `ff-${TRACE_ID}-${SPAN_ID}-01`,
    "upper-case trace id": `00-${TRACE_ID.toUpperCase()}-${SPAN_ID}-01`,
    "upper-case flags": `00-${TRACE_ID}-${SPAN_ID}-0A`,
    "all-zero trace id": `00-${"0".repeat(32)}-${SPAN_ID}-01`,
    "all-zero parent id": `00-${TRACE_ID}-${"0".repeat(16)}-01`,
    "non-hex digit": `00-${TRACE_ID.slice(0, -1)}g-${SPAN_ID}-01`,
    "wrong separator": `00_${TRACE_ID}-${SPAN_ID}-01`,
    "two headers joined": `${VALID}, ${VALID}`,
    "a later version whose extra part is not after a dash": `01-${TRACE_ID}-${SPAN_ID}-01x`,
  };
  for (const [what, value] of Object.entries(invalid)) {
    await t.step(what, () => assert.equal(parseTraceparent(value), undefined));
  }
});

Deno.test("parseTraceparent() reads the known fields of a later version and ignores the rest", () => {
  assert.deepEqual(parseTraceparent(`01-${TRACE_ID}-${SPAN_ID}-01-future`), {
    traceId: TRACE_ID,
    spanId: SPAN_ID,
    sampled: true,
  });
  assert.equal(parseTraceparent(`01-${TRACE_ID}-${SPAN_ID}-00`)?.sampled, false);
});

Deno.test("formatTraceparent() writes version 00", () => {
  assert.equal(formatTraceparent(TRACE_ID, SPAN_ID, true), VALID);
  assert.equal(formatTraceparent(TRACE_ID, SPAN_ID, false), `00-${TRACE_ID}-${SPAN_ID}-00`);
});

Deno.test("cleanTracestate() keeps valid members in order, without blanks", () => {
  assert.equal(
    cleanTracestate("rojo=00f067aa0ba902b7, , congo=t61rcWkgMzE,tenant@vendor=a b"),
    "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE,tenant@vendor=a b",
  );
  assert.equal(cleanTracestate(" , "), undefined);
});

Deno.test("cleanTracestate() drops the whole header for a bad member or a repeated key", async (t) => {
  const invalid: Record<string, string> = {
    "upper-case key": "Rojo=1",
    "no value": "rojo=",
    "no equals sign": "rojo",
    "space in the key": "ro jo=1",
    "control character": "rojo=a\u0001b",
    "non-ASCII": "rojo=é",
    "equals sign in the value": "rojo=a=b",
    "key too long": `${"k".repeat(257)}=1`,
    "repeated key": "rojo=1,congo=2,rojo=3",
  };
  for (const [what, value] of Object.entries(invalid)) {
    await t.step(what, () => assert.equal(cleanTracestate(value), undefined));
  }
});

Deno.test(`cleanTracestate() drops a list of more than ${TRACESTATE_MAX_MEMBERS} members`, () => {
  const members = (n: number) => Array.from({ length: n }, (_, i) => `k${i}=v`).join(",");
  assert.equal(cleanTracestate(members(TRACESTATE_MAX_MEMBERS)), members(TRACESTATE_MAX_MEMBERS));
  assert.equal(cleanTracestate(members(TRACESTATE_MAX_MEMBERS + 1)), undefined);
});

Deno.test(`cleanTracestate() cuts a value over ${TRACESTATE_MAX_LENGTH} characters: long members first, then from the end`, () => {
  const long = `big=${"x".repeat(200)}`;
  const small = Array.from({ length: 10 }, (_, i) => `m${i}=${"y".repeat(40)}`);
  // 10 × 43 + 9 commas = 439 characters without the long member: it alone goes.
  assert.equal(cleanTracestate([small[0], long, ...small.slice(1)].join(",")), small.join(","));
  // 15 small members are 659 characters: the last ones go until it fits.
  const many = Array.from({ length: 15 }, (_, i) => `m${i}=${"y".repeat(40)}`);
  const cut = cleanTracestate(many.join(","))!;
  assert.ok(cut.length <= TRACESTATE_MAX_LENGTH, `${cut.length} characters`);
  assert.equal(cut, many.slice(0, 11).join(","));
});

Deno.test("incomingTrace() reads traceparent and the tracestate fields joined", () => {
  assert.deepEqual(
    incomingTrace([["TraceParent", VALID], ["tracestate", "a=1"], ["TRACESTATE", "b=2"]]),
    { parent: { traceId: TRACE_ID, spanId: SPAN_ID, sampled: true }, tracestate: "a=1,b=2" },
  );
  assert.deepEqual(incomingTrace([["traceparent", VALID], ["tracestate", "Bad"]]), {
    parent: { traceId: TRACE_ID, spanId: SPAN_ID, sampled: true },
  });
});

Deno.test("incomingTrace() is undefined without one valid traceparent", () => {
  assert.equal(incomingTrace([]), undefined);
  assert.equal(incomingTrace([["tracestate", "a=1"]]), undefined);
  assert.equal(incomingTrace([["traceparent", "garbage"], ["tracestate", "a=1"]]), undefined);
  assert.equal(incomingTrace([["traceparent", VALID], ["traceparent", VALID]]), undefined);
});
