import assert from "node:assert/strict";
import stringWidth from "string-width";
import {
  formatClock,
  formatCount,
  formatDuration,
  formatMs,
  formatPercent,
  formatPerSecond,
} from "../../src/dashboard/_format.ts";
import { printable, truncateEnd, truncateMiddle, truncateUrl } from "../../src/dashboard/_text.ts";

Deno.test("printable() keeps text on one line and out of the terminal's control", () => {
  assert.equal(printable("a\tb\r\nc"), "a b c");
  assert.equal(printable("x\x1b[2J\x07\x9by"), "x\ufffd[2J\ufffd\ufffdy");
  assert.equal(printable("abc\u202edef\u2066"), "abcdef");
  assert.equal(printable("日本語 é 👍🏽"), "日本語 é 👍🏽");
});

Deno.test("truncateEnd() and truncateMiddle() cut by display width, never inside a grapheme", () => {
  assert.equal(truncateEnd("circuit breaker open", 10), "circuit b…");
  assert.equal(truncateEnd("short", 10), "short");
  assert.equal(truncateEnd("anything", 1), "…");
  assert.equal(truncateEnd("anything", 0), "");
  // A wide character that would straddle the edge is left out whole.
  assert.equal(truncateEnd("日本語のテキスト", 6), "日本…");
  assert.equal(stringWidth(truncateEnd("日本語のテキスト", 6)), 5);
  assert.equal(truncateEnd("👍🏽👍🏽👍🏽", 4), "👍🏽…");
  assert.equal(truncateMiddle("backend-eu-west-1", 9), "back…st-1");
  assert.equal(truncateMiddle("日本語のホスト名", 7), "日本…名");
});

Deno.test("truncateUrl() keeps scheme and port and cuts the host in its middle", async (t) => {
  await t.step("host cut in the middle", () => {
    const url = "http://very-long-host-name.internal:8081";
    assert.equal(truncateUrl(url, 24), "http://very-l…ernal:8081");
    assert.equal(truncateUrl(url, 100), url);
  });

  await t.step("a path gives way first", () => {
    assert.equal(truncateUrl("http://api.example:8080/v1/things", 24), "http://api.example:8080…");
    assert.equal(truncateUrl("http://api.example:8080/v1/things", 21), "http://api.…ple:8080…");
  });

  await t.step("IPv6 literal hosts keep their port", () => {
    assert.equal(
      truncateUrl("http://[2001:db8::8a2e:370:7334]:9000", 24),
      "http://[2001:…7334]:9000",
    );
  });

  await t.step("when tight, the scheme goes; when tighter, the end is cut", () => {
    assert.equal(truncateUrl("http://10.0.0.1:8081", 14), "10.0.0.1:8081");
    assert.equal(truncateUrl("http://10.0.0.1:8081", 12), "10.…0.1:8081");
    assert.equal(truncateUrl("http://10.0.0.1:8081", 6), "http:…");
  });

  await t.step("anything else is cut in its middle, within the width", () => {
    for (const text of ["not a url at all", "日本語のホスト名", "https://👩🏽‍💻.example:443/x"]) {
      for (let w = 0; w <= 30; w++) assert.ok(stringWidth(truncateUrl(text, w)) <= w);
    }
  });
});

Deno.test("formatters print short, stable figures and – for missing ones", () => {
  assert.equal(formatDuration(3_723_000), "1h02m03s");
  assert.equal(formatDuration(125_000), "2m05s");
  assert.equal(formatDuration(999), "0s");
  assert.equal(formatDuration(-5000), "0s");
  assert.equal(formatDuration(90_061_000), "1d01h01m");
  assert.equal(formatClock(Date.UTC(2025, 0, 1, 9, 5, 7, 999)), "09:05:07");
  assert.equal(formatClock(NaN), "--:--:--");
  assert.equal(formatPerSecond(12.34), "12.3");
  assert.equal(formatPerSecond(12345.6), "12346");
  assert.equal(formatPerSecond(123_456), "123k");
  assert.equal(formatPerSecond(undefined), "–");
  assert.deepEqual(
    [9999, 10_000, 99_999, 999_999, 12_340_000, 5e9].map(formatCount),
    ["9999", "10.0k", "100k", "1.0M", "12.3M", "5.0G"],
  );
  assert.equal(formatMs(4.25), "4.3");
  assert.equal(formatMs(480.4), "480");
  assert.equal(formatPercent(0.0079), "0.8%");
  assert.equal(formatPercent(undefined), "–");
});
