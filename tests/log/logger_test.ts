import assert from "node:assert/strict";
import { createLogger, type Level, LEVELS, type LoggerOptions } from "../../src/log/logger.ts";
import { ProxyError } from "../../src/core/mod.ts";

const none = { permissions: "none" } as const;

const NOW = Date.UTC(2025, 0, 2, 3, 4, 5, 6);
const TIME = "2025-01-02T03:04:05.006Z";

/** A logger writing into an array, at a fixed time. */
function capture(options: LoggerOptions = {}) {
  const lines: string[] = [];
  const log = createLogger({ sink: (line) => lines.push(line), now: () => NOW, ...options });
  return { log, lines };
}

/** The one line written by `write`, parsed as JSON. */
function jsonLine(
  write: (log: ReturnType<typeof capture>["log"]) => void,
): Record<string, unknown> {
  const { log, lines } = capture();
  write(log);
  assert.equal(lines.length, 1);
  return JSON.parse(lines[0]!);
}

/** The one line written by `write` in text format. */
function textLine(write: (log: ReturnType<typeof capture>["log"]) => void): string {
  const { log, lines } = capture({ format: "text" });
  write(log);
  assert.equal(lines.length, 1);
  return lines[0]!;
}

Deno.test("createLogger() writes JSON lines with time, level, msg and the fields", none, () => {
  const { log, lines } = capture();
  log.info("request", { status: 200, path: "/a", ok: true, tags: ["x"], nested: { n: 1 } });
  assert.equal(lines.length, 1);
  assert.deepEqual(JSON.parse(lines[0]!), {
    time: TIME,
    level: "info",
    msg: "request",
    status: 200,
    path: "/a",
    ok: true,
    tags: ["x"],
    nested: { n: 1 },
  });
  assert.ok(lines[0]!.startsWith(`{"time":"${TIME}","level":"info","msg":"request"`));
});

Deno.test("createLogger() writes a line without fields", none, () => {
  assert.deepEqual(jsonLine((log) => log.warn("careful")), {
    time: TIME,
    level: "warn",
    msg: "careful",
  });
});

Deno.test("createLogger() names each level in its lines", none, async (t) => {
  for (const level of LEVELS) {
    await t.step(level, () => {
      const { log, lines } = capture({ level: "debug" });
      log[level]("m");
      assert.equal(JSON.parse(lines[0]!).level, level);
    });
  }
});

Deno.test("createLogger() writes only at or above its level", none, async (t) => {
  const expected: Record<Level, Level[]> = {
    debug: ["debug", "info", "warn", "error"],
    info: ["info", "warn", "error"],
    warn: ["warn", "error"],
    error: ["error"],
  };
  for (const min of LEVELS) {
    await t.step(`at ${min}`, () => {
      const { log, lines } = capture({ level: min });
      for (const level of LEVELS) log[level]("m");
      assert.deepEqual(lines.map((l) => JSON.parse(l).level), expected[min]);
      assert.equal(log.level, min);
      for (const level of LEVELS) {
        assert.equal(log.enabled(level), expected[min].includes(level), level);
      }
    });
  }
});

Deno.test("createLogger() defaults to info level and JSON", none, () => {
  const { log, lines } = capture();
  assert.equal(log.level, "info");
  assert.equal(log.enabled("debug"), false);
  assert.equal(log.enabled("info"), true);
  log.debug("hidden");
  log.info("shown");
  assert.equal(lines.length, 1);
  assert.equal(JSON.parse(lines[0]!).msg, "shown");
});

Deno.test("createLogger() takes timestamps from the given clock", none, () => {
  let now = 0;
  const lines: string[] = [];
  const log = createLogger({ sink: (l) => lines.push(l), now: () => now });
  log.info("a");
  now = 1_000;
  log.info("b");
  assert.deepEqual(lines.map((l) => JSON.parse(l).time), [
    "1970-01-01T00:00:00.000Z",
    "1970-01-01T00:00:01.000Z",
  ]);
});

Deno.test("createLogger() JSON: a field cannot overwrite time, level or msg", none, () => {
  const line = jsonLine((log) =>
    log.info("real", { time: "forged", level: "error", msg: "forged" })
  );
  assert.equal(line.time, TIME);
  assert.equal(line.level, "info");
  assert.equal(line.msg, "real");
});

Deno.test(
  "createLogger() text format writes time, padded level, msg and key=value fields",
  none,
  async (t) => {
    await t.step("fields in order", () => {
      assert.equal(
        textLine((log) => log.info("request", { status: 200, path: "/a/b", ip: "[::1]:80" })),
        `${TIME} INFO  request status=200 path=/a/b ip=[::1]:80`,
      );
    });
    await t.step("every level is five characters wide", () => {
      const { log, lines } = capture({ format: "text", level: "debug" });
      for (const level of LEVELS) log[level]("m");
      assert.deepEqual(lines, [
        `${TIME} DEBUG m`,
        `${TIME} INFO  m`,
        `${TIME} WARN  m`,
        `${TIME} ERROR m`,
      ]);
    });
  },
);

Deno.test("createLogger() text format quotes values that are not plain tokens", none, async (t) => {
  const cases: Array<[unknown, string]> = [
    ["plain", "plain"],
    ["/path/to/x.html", "/path/to/x.html"],
    ["10.0.0.1:8080", "10.0.0.1:8080"],
    ["a,b", "a,b"],
    ["50%", "50%"],
    ["x y", '"x y"'],
    ['say "hi"', '"say \\"hi\\""'],
    ["a=b", '"a=b"'],
    ["", '""'],
    [undefined, '""'],
    [42, "42"],
    [1.5, "1.5"],
    [true, "true"],
    [null, "null"],
    [["a", "b"], '"[\\"a\\",\\"b\\"]"'],
    [{ k: 1 }, '"{\\"k\\":1}"'],
  ];
  for (const [value, written] of cases) {
    await t.step(`${JSON.stringify(value) ?? "undefined"} → ${written}`, () => {
      assert.equal(textLine((log) => log.info("m", { v: value })), `${TIME} INFO  m v=${written}`);
    });
  }
});

Deno.test("createLogger() text format quotes a message containing a quote", none, () => {
  assert.equal(textLine((log) => log.info('say "hi"')), `${TIME} INFO  "say \\"hi\\""`);
});

const HOSTILE = [
  "line\nforged",
  "line\rforged",
  "line\r\n2025-01-01T00:00:00.000Z ERROR forged",
  "nul\0byte",
  "escape\x1b[31mred",
  "tab\there",
  "vertical\vtab",
  "form\ffeed",
];

Deno.test("createLogger() JSON: control characters cannot start a second line", none, async (t) => {
  for (const text of HOSTILE) {
    await t.step(JSON.stringify(text), () => {
      const { log, lines } = capture();
      log.info(text, { value: text, error: new Error(text) });
      assert.equal(lines.length, 1);
      // deno-lint-ignore no-control-regex
      assert.doesNotMatch(lines[0]!, /[\x00-\x1f]/);
      const parsed = JSON.parse(lines[0]!);
      assert.equal(parsed.msg, text);
      assert.equal(parsed.value, text);
      assert.equal(parsed.error, `Error: ${text}`);
    });
  }
});

Deno.test(
  "createLogger() text format: control characters cannot start a second line",
  none,
  async (t) => {
    for (const text of HOSTILE) {
      await t.step(JSON.stringify(text), () => {
        const line = textLine((log) => log.info(text, { value: text, error: new Error(text) }));
        // deno-lint-ignore no-control-regex
        assert.doesNotMatch(line, /[\x00-\x1f]/);
        assert.equal(
          line,
          `${TIME} INFO  ${JSON.stringify(text)} value=${JSON.stringify(text)} error=${
            JSON.stringify(`Error: ${text}`)
          }`,
        );
      });
    }
  },
);

Deno.test(
  "createLogger() redacts fields named like credentials, in both formats",
  none,
  async (t) => {
    const secrets = [
      "authorization",
      "Authorization",
      "proxy-authorization",
      "cookie",
      "set-cookie",
      "token",
      "access_token",
      "password",
      "api_key",
      "api-key",
      "apiKey",
      "x-api-key",
      "client_secret",
    ];
    for (const name of secrets) {
      await t.step(name, () => {
        const json = jsonLine((log) => log.info("m", { [name]: "hunter2" }));
        assert.equal(json[name], "[redacted]");
        const text = textLine((log) => log.info("m", { [name]: "hunter2" }));
        assert.equal(text, `${TIME} INFO  m ${name}=[redacted]`);
      });
    }
    await t.step("whatever the value's type", () => {
      const json = jsonLine((log) =>
        log.info("m", { token: { raw: "hunter2" }, password: 1234, cookie: new Error("hunter2") })
      );
      assert.deepEqual(json, {
        time: TIME,
        level: "info",
        msg: "m",
        token: "[redacted]",
        password: "[redacted]",
        cookie: "[redacted]",
      });
    });
  },
);

Deno.test("createLogger() leaves other fields alone", none, () => {
  const json = jsonLine((log) => log.info("m", { status: 401, user: "ann", path: "/login" }));
  assert.equal(json.status, 401);
  assert.equal(json.user, "ann");
  assert.equal(json.path, "/login");
});

Deno.test('createLogger() writes Error values as "Name: message"', none, async (t) => {
  await t.step("JSON", () => {
    const json = jsonLine((log) =>
      log.error("failed", {
        error: new TypeError("boom"),
        proxy: new ProxyError("connect", "refused"),
        plain: new Error("x"),
      })
    );
    assert.equal(json.error, "TypeError: boom");
    assert.equal(json.proxy, "ProxyError: refused");
    assert.equal(json.plain, "Error: x");
  });
  await t.step("text", () => {
    assert.equal(
      textLine((log) => log.error("failed", { error: new RangeError("out of range") })),
      `${TIME} ERROR failed error="RangeError: out of range"`,
    );
  });
});
