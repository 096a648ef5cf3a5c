import assert from "node:assert/strict";
import { formatDuration, parseDuration } from "../../src/config/duration.ts";

Deno.test("parseDuration() reads each unit: ms, s, m and h", { permissions: "none" }, async (t) => {
  const cases: Array<[string, number]> = [
    ["250ms", 250],
    ["1ms", 1],
    ["5s", 5000],
    ["2m", 120_000],
    ["1h", 3_600_000],
    ["0s", 0],
    ["00005s", 5000],
  ];
  for (const [text, ms] of cases) {
    await t.step(`"${text}" is ${ms} ms`, () => {
      assert.equal(parseDuration(text), ms);
    });
  }
});

Deno.test("parseDuration() adds up combined units", { permissions: "none" }, async (t) => {
  const cases: Array<[string, number]> = [
    ["1m30s", 90_000],
    ["1h30m", 5_400_000],
    ["1h30m15s250ms", 5_415_250],
    ["2s500ms", 2500],
  ];
  for (const [text, ms] of cases) {
    await t.step(`"${text}" is ${ms} ms`, () => {
      assert.equal(parseDuration(text), ms);
    });
  }
});

Deno.test("parseDuration() accepts decimals", { permissions: "none" }, async (t) => {
  const cases: Array<[string, number]> = [
    ["1.5s", 1500],
    ["0.5s", 500],
    ["1.5m", 90_000],
    ["0.1h", 360_000],
    ["1.25s", 1250],
  ];
  for (const [text, ms] of cases) {
    await t.step(`"${text}" is ${ms} ms`, () => {
      assert.equal(parseDuration(text), ms);
    });
  }
});

Deno.test("parseDuration() keeps decimal durations exact to the millisecond", {
  permissions: "none",
}, async (t) => {
  // 2.01 * 1000 is 2009.9999999999998 in binary floating point; a timeout
  // of "2.01s" should still be exactly 2010 ms.
  const cases: Array<[string, number]> = [
    ["2.01s", 2010],
    ["4.03s", 4030],
    ["4.06s", 4060],
    ["8.12s", 8120],
  ];
  for (const [text, ms] of cases) {
    await t.step(`"${text}" is exactly ${ms} ms`, () => {
      assert.equal(parseDuration(text), ms);
    });
  }
});

Deno.test("parseDuration() ignores whitespace around the duration", { permissions: "none" }, () => {
  assert.equal(parseDuration(" 5s "), 5000);
  assert.equal(parseDuration("\t5s\n"), 5000);
});

Deno.test(
  "parseDuration() rejects text that is not a duration",
  { permissions: "none" },
  async (t) => {
    const cases: Array<[string, string]> = [
      ["30", "a bare number, which could mean seconds or milliseconds"],
      ["1.5", "a bare decimal"],
      ["-5s", "a negative duration"],
      ["+5s", "an explicit sign"],
      ["", "the empty string"],
      ["   ", "only whitespace"],
      ["5d", "an unknown unit (days)"],
      ["5us", "an unknown unit (microseconds)"],
      ["5sec", "a unit spelled out"],
      ["5S", "an upper-case unit"],
      ["5 s", "a space between number and unit"],
      ["1m 30s", "a space between parts"],
      ["s", "a unit without a number"],
      ["ms", "a unit without a number"],
      ["5m5", "a trailing number without a unit"],
      [".5s", "a decimal without a leading digit"],
      ["5.s", "a decimal point without digits after it"],
      ["1.5.5s", "two decimal points"],
      ["1e3ms", "scientific notation"],
      ["1_000ms", "digit separators"],
      ["Infinity", "Infinity"],
      ["NaN", "NaN"],
      ["5s!", "trailing junk"],
    ];
    for (const [text, why] of cases) {
      await t.step(`${JSON.stringify(text)}: ${why}`, () => {
        assert.equal(parseDuration(text), undefined);
      });
    }
  },
);

Deno.test("parseDuration() starts afresh on every call after a failed parse", {
  permissions: "none",
}, () => {
  // The parser keeps a sticky regular expression; a failure half-way must
  // not leak its position into the next call.
  assert.equal(parseDuration("1m garbage"), undefined);
  assert.equal(parseDuration("5s"), 5000);
});

Deno.test("formatDuration() uses the largest units that keep the value exact", {
  permissions: "none",
}, async (t) => {
  const cases: Array<[number, string]> = [
    [0, "0s"],
    [1, "1ms"],
    [250, "250ms"],
    [999, "999ms"],
    [1000, "1s"],
    [1500, "1s500ms"],
    [60_000, "1m"],
    [90_000, "1m30s"],
    [120_000, "2m"],
    [3_600_000, "1h"],
    [5_400_000, "1h30m"],
    [86_400_000, "24h"],
    [90_061_001, "25h1m1s1ms"],
  ];
  for (const [ms, text] of cases) {
    await t.step(`${ms} ms is "${text}"`, () => {
      assert.equal(formatDuration(ms), text);
    });
  }
});

Deno.test("formatDuration() and parseDuration() round-trip", { permissions: "none" }, async (t) => {
  await t.step("every whole number of milliseconds parses back to itself", () => {
    const values = [0, 1, 59, 1000, 59_999, 60_001, 3_599_999, 3_600_001, 86_400_000];
    for (let ms = 0; ms < 100_000_000; ms += 7919 * 13) values.push(ms);
    for (const ms of values) {
      assert.equal(parseDuration(formatDuration(ms)), ms, `${ms} → "${formatDuration(ms)}"`);
    }
  });

  await t.step("a written duration formats to its canonical spelling", () => {
    const cases: Array<[string, string]> = [
      ["90s", "1m30s"],
      ["1.5s", "1s500ms"],
      ["60m", "1h"],
      ["1000ms", "1s"],
      ["0.5h", "30m"],
      ["1m30s", "1m30s"],
    ];
    for (const [written, canonical] of cases) {
      assert.equal(formatDuration(parseDuration(written)!), canonical);
    }
  });
});
