/**
 * The request-target the h1 transport writes: the URL's path and query, or
 * the separate target an upstream request carries (`OPTIONS *`).
 */

import assert from "node:assert/strict";
import { h1Transport } from "../../src/h1/mod.ts";
import { H1_TEST_OPTIONS } from "./_options.ts";
import { readRequestHead, send, startRawBackend } from "../_helpers/raw.ts";

const options = H1_TEST_OPTIONS;

Deno.test("h1: the request line carries the asterisk form when the request names it", async (t) => {
  const lines: string[] = [];
  await using backend = startRawBackend(async (conn) => {
    for (;;) {
      const head = await readRequestHead(conn);
      if (head === "") return;
      lines.push(head.slice(0, head.indexOf("\r\n")));
      await send(conn, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    }
  });
  using h1 = h1Transport(options);
  const exchange = async (url: string, target?: "*") => {
    const res = await h1.send({
      method: "OPTIONS",
      url,
      ...(target ? { target } : {}),
      headers: [["host", "api.example"]],
      body: null,
      signal: new AbortController().signal,
    });
    assert.equal(res.status, 200);
  };
  await t.step("target * is written as is", async () => {
    await exchange(`${backend.url}/base/`, "*");
    assert.equal(lines.at(-1), "OPTIONS * HTTP/1.1");
  });
  await t.step("without it, the URL's path and query", async () => {
    await exchange(`${backend.url}/a/*?x=1`);
    assert.equal(lines.at(-1), "OPTIONS /a/*?x=1 HTTP/1.1");
  });
  await t.step("exactly as written: dot segments and encodings are not resolved", async () => {
    await exchange(`${backend.url}/a/./b/%7e/c?q=%2F`);
    assert.equal(lines.at(-1), "OPTIONS /a/./b/%7e/c?q=%2F HTTP/1.1");
  });
});
