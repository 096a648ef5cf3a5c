/**
 * headersInit(): the shape a response's fields are handed to the runtime
 * in must never lose or merge a field the client should get.
 */

import assert from "node:assert/strict";
import { type HeaderList, headersInit } from "../../src/core/mod.ts";

Deno.test("headersInit() gives a record when no name repeats, and the response is the same", () => {
  const list: HeaderList = [["Content-Type", "text/plain"], ["x-request-id", "abc"]];
  const init = headersInit(list);
  assert.deepEqual(init, { "content-type": "text/plain", "x-request-id": "abc" });
  assert.deepEqual(
    [...new Response("x", { headers: init }).headers],
    [...new Response("x", { headers: list }).headers],
  );
});

Deno.test("headersInit() keeps the list when a name repeats: every Set-Cookie reaches the client", () => {
  const list: HeaderList = [
    ["set-cookie", "a=1"],
    ["content-type", "text/plain"],
    ["Set-Cookie", "b=2"],
  ];
  assert.equal(headersInit(list), list);
  assert.deepEqual(new Response("x", { headers: headersInit(list) }).headers.getSetCookie(), [
    "a=1",
    "b=2",
  ]);
});

Deno.test("headersInit() keeps the list for a name an object cannot hold as its own", () => {
  const list: HeaderList = [["__proto__", "x"]];
  assert.equal(headersInit(list), list);
});
