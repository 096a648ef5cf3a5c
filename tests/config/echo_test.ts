import assert from "node:assert/strict";
import { clip, echoValue, quote } from "../../src/config/echo.ts";

Deno.test("clip() leaves text of up to 80 characters alone", () => {
  assert.equal(clip(""), "");
  assert.equal(clip("8080"), "8080");
  assert.equal(clip("x".repeat(80)), "x".repeat(80));
});

Deno.test("clip() cuts longer text to 80 characters, an ellipsis and the full length", () => {
  assert.equal(clip("9".repeat(1_000_000)), `${"9".repeat(80)}… (1000000 characters)`);
  assert.equal(clip("abcdef", 3), "abc… (6 characters)");
});

Deno.test("quote() writes a JSON string, escaping control characters", () => {
  assert.equal(quote("5 s"), '"5 s"');
  assert.equal(quote('a"b\n\x1b[2J'), '"a\\"b\\n\\u001b[2J"');
});

Deno.test("quote() cuts a long value inside the quotes and says how long it was", () => {
  const value = "x".repeat(1_048_576);
  const shown = quote(value);
  assert.equal(shown, `"${"x".repeat(80)}…" (1048576 characters)`);
  assert.ok(shown.length < 120);
});

Deno.test("quote() and clip() never cut a surrogate pair in half", () => {
  const text = "a".repeat(79) + "😀".repeat(10);
  assert.equal(clip(text), `${"a".repeat(79)}… (${text.length} characters)`);
  assert.equal(quote(text), `"${"a".repeat(79)}…" (${text.length} characters)`);
});

Deno.test("echoValue() spells non-finite numbers the YAML way, not as JSON's null", async (t) => {
  for (
    const [value, shown] of [
      [Infinity, ".inf"],
      [-Infinity, "-.inf"],
      [NaN, ".nan"],
      [42, "42"],
      [true, "true"],
      [null, "null"],
      ["5s", '"5s"'],
    ] as const
  ) {
    await t.step(`${String(value)} is shown as ${shown}`, () => {
      assert.equal(echoValue(value), shown);
    });
  }
  await t.step("a long string is cut", () => {
    assert.equal(echoValue("y".repeat(200)), `"${"y".repeat(80)}…" (200 characters)`);
  });
});
