import assert from "node:assert/strict";
import { stringify } from "yaml";
import {
  type Config,
  ConfigFileError,
  formatDiagnostic,
  loadConfigFile,
  parseConfig,
  printableConfig,
} from "../../src/config/mod.ts";
import { ROOT } from "../_helpers/cli.ts";
import { fakeResolver, writeConfigFile } from "../_helpers/config.ts";

/** Parsing YAML takes no permission but these: npm:yaml reads them to decide whether to trace. */
const PARSE: { permissions: Deno.PermissionOptionsObject } = {
  permissions: { env: ["LOG_TOKENS", "LOG_STREAM"] },
};
/** Reading the shipped aegis.yml. */
const READ: { permissions: Deno.PermissionOptionsObject } = {
  permissions: { ...PARSE.permissions, read: true },
};
/** Writing and reading temporary configuration files. */
const FILES: { permissions: Deno.PermissionOptionsObject } = {
  permissions: { ...PARSE.permissions, read: true, write: true },
};

const FILE = "aegis.yml";
const resolver = fakeResolver({
  "h": ["93.184.216.34"],
  "backend.example": ["93.184.216.34"],
});

/** YAML text from lines, so that line numbers in assertions are easy to count. */
function yml(...lines: string[]): string {
  return lines.join("\n") + "\n";
}

/** The smallest valid backend list, three lines long. */
const BACKEND = ["backends:", "  - url: http://93.184.216.34", "    weight: 1"];

/** Parses `text`, expects it to be valid and returns the configuration. */
async function accept(text: string): Promise<Config> {
  const r = await parseConfig(text, { file: FILE, resolver });
  if (!r.ok) {
    assert.fail(
      `expected a valid configuration, got:\n${
        r.diagnostics.map((d) => formatDiagnostic(FILE, d)).join("\n")
      }`,
    );
  }
  return r.config;
}

/** Parses `text`, expects it to be rejected and returns every formatted diagnostic. */
async function reject(text: string): Promise<string[]> {
  const r = await parseConfig(text, { file: FILE, resolver });
  assert.equal(r.ok, false, "expected the configuration to be rejected");
  return r.ok ? [] : r.diagnostics.map((d) => formatDiagnostic(FILE, d));
}

/** A temporary configuration file, removed with its directory on dispose. */
async function tempConfig(
  content: string | Uint8Array,
): Promise<{ path: string } & AsyncDisposable> {
  const path = await writeConfigFile("");
  if (typeof content === "string") await Deno.writeTextFile(path, content);
  else await Deno.writeFile(path, content);
  const dir = path.slice(0, path.lastIndexOf("/"));
  return { path, [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }) };
}

/** The listener of the flat form, every field at its default. */
const FRONT: Config["listeners"][number] = {
  name: "default",
  protocol: "http",
  address: "0.0.0.0:8080",
  allow: [],
  deny: [],
  accept_proxy_protocol: [],
  read_timeout: 5000,
  write_timeout: 10_000,
  idle_timeout: 120_000,
  max_header_bytes: 8192,
  max_body_bytes: 10_485_760,
  max_connections: "auto",
  max_connections_per_client: 256,
  rate_limit: {
    requests_per_second: 100,
    burst: 150,
    cleanup_interval: 60_000,
    max_clients: 100_000,
    ipv6_prefix: 64,
    exempt: [],
    store: { type: "local", url: "", sync_interval: 100 },
  },
  adaptive: {
    evaluation_interval: 10_000,
    latency_threshold_ms: 500,
    reduction_factor: 0.8,
    recovery_factor: 1.1,
    min_rate: 10,
    max_rate: 500,
  },
  security: {
    allowed_methods: ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
    allowed_hosts: [],
  },
  websocket: {
    enabled: false,
    idle_timeout: 300_000,
    allowed_origins: [],
    max_connections: 10_000,
    max_connections_per_client: 64,
  },
  routes: [{ pool: "default", strip_prefix: false }],
};

/** The pool of the flat form without its backends, every field at its default. */
const POOL: Omit<Config["pools"][string], "backends"> = {
  load_balancing: { algorithm: "weighted_round_robin", hash_key: "client_ip" },
  retries: { attempts: 1 },
  health_check: {
    interval: 10_000,
    timeout: 3000,
    path: "/health",
    unhealthy_threshold: 3,
    healthy_threshold: 2,
  },
  circuit_breaker: {
    failure_threshold: 5,
    success_threshold: 3,
    open_timeout: 30_000,
    half_open_max_requests: 3,
  },
  upstream: {
    transport: "auto",
    connect_timeout: 5000,
    max_connections: 512,
    max_idle_connections: 128,
    idle_connection_timeout: 4000,
    response_header_timeout: 30_000,
    read_timeout: 60_000,
    proxy_protocol: "off",
    preserve_host: true,
  },
};

/** The process-wide sections, at their defaults. */
const DEFAULTS: Omit<Config, "listeners" | "pools"> = {
  server: { shutdown_timeout: 30_000, workers: 1 },
  security: { allowed_backend_networks: [] },
  logging: { level: "info", format: "json" },
  tui: { refresh_interval: 1000, enabled: true },
  development: { allow_loopback_backends: false },
  admin: { address: "127.0.0.1:9090", metrics_address: "", token: "" },
  tracing: {
    enabled: false,
    endpoint: "http://127.0.0.1:4318/v1/traces",
    sampling_ratio: 1,
    service_name: "aegis",
  },
};

/** The flat form's one listener. */
const front = (config: Config) => config.listeners[0]!;
/** The flat form's one pool. */
const pool = (config: Config) => config.pools.default!;

// ---------------------------------------------------------------------------
// Valid configurations and defaults
// ---------------------------------------------------------------------------

Deno.test(
  "parseConfig() fills every field of a minimal configuration with the seed defaults",
  PARSE,
  async () => {
    const config = await accept(yml(...BACKEND));
    assert.deepEqual(config, {
      ...DEFAULTS,
      listeners: [FRONT],
      pools: { default: { ...POOL, backends: [{ url: "http://93.184.216.34", weight: 1 }] } },
    });
  },
);

Deno.test(
  "parseConfig() reads a section with nothing under it (`server:`) as all defaults",
  PARSE,
  async () => {
    const config = await accept(yml("server:", "adaptive:", "development:", ...BACKEND));
    assert.deepEqual(front(config), FRONT);
    assert.deepEqual(config.server, DEFAULTS.server);
    assert.deepEqual(config.development, DEFAULTS.development);
  },
);

Deno.test(
  "parseConfig() keeps given fields and defaults their neighbours in the same section",
  PARSE,
  async () => {
    const config = await accept(
      yml("server:", "  port: 9000", "  read_timeout: 1m30s", ...BACKEND),
    );
    assert.deepEqual(front(config), { ...FRONT, address: "0.0.0.0:9000", read_timeout: 90_000 });
  },
);

Deno.test(
  "parseConfig() accepts every field written out with the seed's own values",
  PARSE,
  async () => {
    const full: Config = {
      ...DEFAULTS,
      listeners: [FRONT],
      pools: { default: { ...POOL, backends: [{ url: "http://h:8081", weight: 2 }] } },
    };
    const text = stringify(printableConfig(full));
    assert.match(text, /read_timeout: 5s/);
    assert.deepEqual(await accept(text), full);
  },
);

Deno.test("parseConfig() accepts a file that starts with a byte order mark", PARSE, async () => {
  const config = await accept("\uFEFF" + yml(...BACKEND));
  assert.equal(pool(config).backends.length, 1);
});

Deno.test("parseConfig() follows a YAML alias to the value its anchor names", PARSE, async () => {
  const config = await accept(yml(
    "health_check:",
    "  interval: &every 20s",
    "circuit_breaker:",
    "  open_timeout: *every",
    ...BACKEND,
  ));
  assert.equal(pool(config).health_check.interval, 20_000);
  assert.equal(pool(config).circuit_breaker.open_timeout, 20_000);
});

Deno.test("the shipped aegis.yml is valid and spells out the seed defaults", READ, async () => {
  const r = await loadConfigFile(`${ROOT}aegis.yml`, {
    resolver: fakeResolver({ localhost: ["127.0.0.1", "::1"] }),
  });
  assert.ok(
    r.ok,
    r.ok ? "" : r.diagnostics.map((d) => formatDiagnostic("aegis.yml", d)).join("\n"),
  );
  const { pools, development, ...rest } = r.config;
  const { development: _, ...defaults } = DEFAULTS;
  assert.deepEqual(rest, { ...defaults, listeners: [FRONT] });
  assert.deepEqual(development, { allow_loopback_backends: true });
  const { backends, ...settings } = pools.default!;
  assert.deepEqual(settings, POOL);
  assert.deepEqual(backends, [
    { url: "http://localhost:8081", weight: 1 },
    { url: "http://localhost:8082", weight: 1 },
    { url: "http://localhost:8083", weight: 2 },
  ]);
});

// ---------------------------------------------------------------------------
// printableConfig
// ---------------------------------------------------------------------------

Deno.test(
  "printableConfig() writes durations as duration strings",
  PARSE,
  async () => {
    const config = await accept(yml("server:", "  idle_timeout: 90s", ...BACKEND));
    const printed = printableConfig(config) as {
      listeners: Array<Record<string, unknown> & { rate_limit: Record<string, unknown> }>;
      tui: Record<string, unknown>;
    };
    assert.equal(printed.listeners[0]!.read_timeout, "5s");
    assert.equal(printed.listeners[0]!.idle_timeout, "1m30s");
    assert.equal(printed.listeners[0]!.rate_limit.cleanup_interval, "1m");
    assert.equal(printed.tui.refresh_interval, "1s");
  },
);

Deno.test(
  "printableConfig() output loads back to the same configuration",
  PARSE,
  async (t) => {
    const sources: Record<string, string> = {
      "the defaults": yml(...BACKEND),
      "custom values": yml(
        "server:",
        "  port: 0",
        "  read_timeout: 1.5s",
        "  write_timeout: 1h30m15s250ms",
        "adaptive:",
        "  reduction_factor: 0.5",
        "  min_rate: 1",
        "  max_rate: 100000",
        "security:",
        "  allowed_hosts: ['*.example.com', 'example.com:8080']",
        "  allowed_backend_networks: [10.0.0.0/8]",
        "backends:",
        "  - url: http://h:8081/api",
        "    weight: 3",
        "  - url: https://10.1.2.3",
        "    weight: 1",
      ),
    };
    for (const [name, text] of Object.entries(sources)) {
      await t.step(name, async () => {
        const config = await accept(text);
        assert.deepEqual(await accept(stringify(printableConfig(config))), config);
      });
    }
  },
);

Deno.test(
  "a duration finer than a millisecond is rejected or survives `aegis check` unchanged",
  PARSE,
  async (t) => {
    for (const written of ["0.4ms", "1.5ms", "1.0001s"]) {
      await t.step(written, async () => {
        const r = await parseConfig(yml("server:", `  read_timeout: ${written}`, ...BACKEND), {
          file: FILE,
          resolver,
        });
        if (!r.ok) {
          assert.equal(r.diagnostics.length, 1);
          assert.equal(r.diagnostics[0]!.path, "server.read_timeout");
          return;
        }
        const printed = printableConfig(r.config) as {
          listeners: Array<{ read_timeout: string }>;
        };
        const again = await accept(stringify(printableConfig(r.config)));
        assert.equal(
          front(again).read_timeout,
          front(r.config).read_timeout,
          `"${written}" was printed as ${JSON.stringify(printed.listeners[0]!.read_timeout)}`,
        );
      });
    }
  },
);

// ---------------------------------------------------------------------------
// formatDiagnostic
// ---------------------------------------------------------------------------

Deno.test(
  "formatDiagnostic() writes file:line:col path: message, or file path: message without a position",
  PARSE,
  () => {
    assert.equal(
      formatDiagnostic("aegis.yml", {
        path: "backends[1].url",
        message: "scheme must be http or https, not ftp",
        line: 14,
        col: 7,
      }),
      "aegis.yml:14:7 backends[1].url: scheme must be http or https, not ftp",
    );
    assert.equal(
      formatDiagnostic("conf/a.yml", { path: "backends", message: "is required" }),
      "conf/a.yml backends: is required",
    );
  },
);

// ---------------------------------------------------------------------------
// Unknown keys
// ---------------------------------------------------------------------------

Deno.test(
  "parseConfig() reports an unknown key where it is written",
  PARSE,
  async (t) => {
    await t.step("at the top level", async () => {
      assert.deepEqual(await reject(yml(...BACKEND, "sever:", "  port: 80")), [
        'aegis.yml:4:1 sever: unknown key "sever"; expected one of: server, backends, ' +
        "listeners, pools, load_balancing, retries, health_check, rate_limit, adaptive, circuit_breaker, logging, " +
        "tui, development, admin, tracing, security, upstream",
      ]);
    });

    await t.step("inside a section", async () => {
      assert.deepEqual(await reject(yml("server:", "  prot: 80", ...BACKEND)), [
        'aegis.yml:2:3 server.prot: unknown key "prot"; expected one of: host, port, ' +
        "read_timeout, write_timeout, idle_timeout, max_header_bytes, max_body_bytes, " +
        "shutdown_timeout, workers, max_connections, max_connections_per_client",
      ]);
    });

    await t.step("inside a backend item", async () => {
      assert.deepEqual(await reject(yml(...BACKEND, "    wieght: 2")), [
        'aegis.yml:4:5 backends[0].wieght: unknown key "wieght"; expected one of: url, address, weight',
      ]);
    });

    await t.step("that is not a plain scalar", async () => {
      assert.deepEqual(await reject(yml("? [a]", ": 1", ...BACKEND)), [
        "aegis.yml:1:3 (root): unknown key; expected one of: server, backends, " +
        "listeners, pools, load_balancing, retries, health_check, rate_limit, adaptive, circuit_breaker, logging, " +
        "tui, development, admin, tracing, security, upstream",
      ]);
    });
  },
);

// ---------------------------------------------------------------------------
// Wrong types
// ---------------------------------------------------------------------------

Deno.test(
  "parseConfig() reports a value of the wrong type",
  PARSE,
  async (t) => {
    const cases: Array<[string, string[], string]> = [
      [
        "a string for an integer",
        ["server:", '  port: "8080"'],
        'aegis.yml:2:9 server.port: expected integer 0–65535, found "8080"',
      ],
      [
        "a decimal for an integer",
        ["server:", "  max_header_bytes: 8192.5"],
        "aegis.yml:2:21 server.max_header_bytes: expected integer 1024–262144, found 8192.5",
      ],
      [
        "a number for a duration",
        ["server:", "  read_timeout: 5"],
        'aegis.yml:2:17 server.read_timeout: expected a duration such as "250ms", "5s" or "2m", found 5',
      ],
      [
        '"yes" for a boolean (YAML 1.2)',
        ["tui:", "  enabled: yes"],
        'aegis.yml:2:12 tui.enabled: expected true or false, found "yes"',
      ],
      [
        '"no" for a boolean (YAML 1.2)',
        ["upstream:", "  preserve_host: no"],
        'aegis.yml:2:18 upstream.preserve_host: expected true or false, found "no"',
      ],
      [
        'a quoted "true" for a boolean',
        ["tui:", '  enabled: "true"'],
        'aegis.yml:2:12 tui.enabled: expected true or false, found "true"',
      ],
      [
        "1 for a boolean",
        ["tui:", "  enabled: 1"],
        "aegis.yml:2:12 tui.enabled: expected true or false, found 1",
      ],
      [
        "a list for a mapping",
        ["server:", "  - port: 80"],
        "aegis.yml:2:3 server: expected a mapping, found a list",
      ],
      [
        "a number for a mapping",
        ["server: 8080"],
        "aegis.yml:1:9 server: expected a mapping, found number 8080",
      ],
      [
        "a list for a string",
        ["health_check:", "  path: [/health]"],
        "aegis.yml:2:9 health_check.path: expected string, found a list",
      ],
      [
        "a mapping for a number",
        ["rate_limit:", "  requests_per_second: {per: 1s}"],
        "aegis.yml:2:24 rate_limit.requests_per_second: expected number > 0, found a mapping",
      ],
      [
        "a key with no value",
        ["server:", "  port:"],
        "aegis.yml:2:3 server.port: has no value; expected integer 0–65535",
      ],
      [
        "an unknown algorithm",
        ["load_balancing:", "  algorithm: random"],
        "aegis.yml:2:14 load_balancing.algorithm: must be one of weighted_round_robin, round_robin, " +
        'least_connections, consistent_hash; found "random"',
      ],
      [
        "an unknown log level",
        ["logging:", "  level: loud"],
        'aegis.yml:2:10 logging.level: must be one of debug, info, warn, error; found "loud"',
      ],
      [
        "an unknown log format",
        ["logging:", "  format: xml"],
        'aegis.yml:2:11 logging.format: must be one of json, text; found "xml"',
      ],
    ];
    for (const [name, lines, expected] of cases) {
      await t.step(name, async () => {
        assert.deepEqual(await reject(yml(...lines, ...BACKEND)), [expected]);
      });
    }

    await t.step("a mapping for the backends list", async () => {
      assert.deepEqual(await reject(yml("backends:", "  url: http://h", "  weight: 1")), [
        "aegis.yml:2:3 backends: expected a list, found a mapping",
      ]);
    });

    await t.step("a bare URL for a backend item", async () => {
      assert.deepEqual(await reject(yml("backends:", "  - http://93.184.216.34")), [
        'aegis.yml:2:5 backends[0]: expected a mapping, found the string "http://93.184.216.34"',
      ]);
    });

    await t.step("a number for a backend URL", async () => {
      assert.deepEqual(await reject(yml("backends:", "  - url: 42", "    weight: 1")), [
        "aegis.yml:2:10 backends[0].url: expected a string, found 42",
      ]);
    });

    await t.step("a decimal weight", async () => {
      assert.deepEqual(
        await reject(yml("backends:", "  - url: http://h", "    weight: 1.5")),
        ["aegis.yml:3:13 backends[0].weight: expected integer 1–10000, found 1.5"],
      );
    });
  },
);

// ---------------------------------------------------------------------------
// Durations
// ---------------------------------------------------------------------------

Deno.test("parseConfig() reports a bad duration", PARSE, async (t) => {
  const cases: Array<[string, string, string]> = [
    [
      "a space inside",
      "5 s",
      'aegis.yml:2:17 server.read_timeout: invalid duration "5 s": use a number and a unit (ms, s, m, h)',
    ],
    [
      "a number without a unit, quoted",
      '"30"',
      'aegis.yml:2:17 server.read_timeout: invalid duration "30": use a number and a unit (ms, s, m, h)',
    ],
    [
      "an unknown unit",
      "1d",
      'aegis.yml:2:17 server.read_timeout: invalid duration "1d": use a number and a unit (ms, s, m, h)',
    ],
    [
      "a negative duration",
      "-1s",
      'aegis.yml:2:17 server.read_timeout: invalid duration "-1s": use a number and a unit (ms, s, m, h)',
    ],
    ["zero", "0s", 'aegis.yml:2:17 server.read_timeout: "0s" must be positive'],
    [
      "more than a day",
      "25h",
      'aegis.yml:2:17 server.read_timeout: "25h" is out of range: must be at most 24h',
    ],
  ];
  for (const [name, value, expected] of cases) {
    await t.step(name, async () => {
      assert.deepEqual(await reject(yml("server:", `  read_timeout: ${value}`, ...BACKEND)), [
        expected,
      ]);
    });
  }

  await t.step("exactly a day is accepted", async () => {
    const config = await accept(yml("server:", "  read_timeout: 24h", ...BACKEND));
    assert.equal(front(config).read_timeout, 86_400_000);
  });

  await t.step("a dashboard refresh above its one-minute cap", async () => {
    assert.deepEqual(await reject(yml("tui:", "  refresh_interval: 2m", ...BACKEND)), [
      'aegis.yml:2:21 tui.refresh_interval: "2m" is out of range: must be at most 1m',
    ]);
  });
});

// ---------------------------------------------------------------------------
// Ranges
// ---------------------------------------------------------------------------

Deno.test(
  "parseConfig() reports numbers out of range",
  PARSE,
  async (t) => {
    const cases: Array<[string, string[], string]> = [
      [
        "port 70000",
        ["server:", "  port: 70000"],
        "aegis.yml:2:9 server.port: 70000 is out of range: must be 0–65535",
      ],
      [
        "port -1",
        ["server:", "  port: -1"],
        "aegis.yml:2:9 server.port: -1 is out of range: must be 0–65535",
      ],
      [
        "max_header_bytes 10",
        ["server:", "  max_header_bytes: 10"],
        "aegis.yml:2:21 server.max_header_bytes: 10 is out of range: must be 1024–262144",
      ],
      [
        "max_body_bytes 0",
        ["server:", "  max_body_bytes: 0"],
        "aegis.yml:2:19 server.max_body_bytes: 0 is out of range: must be 1–9007199254740991",
      ],
      [
        "reduction_factor 1.5",
        ["adaptive:", "  reduction_factor: 1.5"],
        "aegis.yml:2:21 adaptive.reduction_factor: 1.5 is out of range: must be > 0 and < 1",
      ],
      [
        "reduction_factor 1",
        ["adaptive:", "  reduction_factor: 1"],
        "aegis.yml:2:21 adaptive.reduction_factor: 1 is out of range: must be > 0 and < 1",
      ],
      [
        "recovery_factor 1",
        ["adaptive:", "  recovery_factor: 1"],
        "aegis.yml:2:20 adaptive.recovery_factor: 1 is out of range: must be > 1",
      ],
      [
        "min_rate 0",
        ["adaptive:", "  min_rate: 0"],
        "aegis.yml:2:13 adaptive.min_rate: 0 is out of range: must be > 0",
      ],
      [
        "requests_per_second 0",
        ["rate_limit:", "  requests_per_second: 0"],
        "aegis.yml:2:24 rate_limit.requests_per_second: 0 is out of range: must be > 0",
      ],
      [
        "burst 0",
        ["rate_limit:", "  burst: 0"],
        "aegis.yml:2:10 rate_limit.burst: 0 is out of range: must be ≥ 1",
      ],
      [
        "failure_threshold 0",
        ["circuit_breaker:", "  failure_threshold: 0"],
        "aegis.yml:2:22 circuit_breaker.failure_threshold: 0 is out of range: must be 1–1000",
      ],
    ];
    for (const [name, lines, expected] of cases) {
      await t.step(name, async () => {
        assert.deepEqual(await reject(yml(...lines, ...BACKEND)), [expected]);
      });
    }

    await t.step("weight 0", async () => {
      assert.deepEqual(await reject(yml("backends:", "  - url: http://h", "    weight: 0")), [
        "aegis.yml:3:13 backends[0].weight: 0 is out of range: must be 1–10000",
      ]);
    });

    await t.step("weight 10001", async () => {
      assert.deepEqual(await reject(yml("backends:", "  - url: http://h", "    weight: 10001")), [
        "aegis.yml:3:13 backends[0].weight: 10001 is out of range: must be 1–10000",
      ]);
    });

    await t.step("the bounds themselves are accepted", async () => {
      const config = await accept(yml(
        "server:",
        "  port: 65535",
        "  max_header_bytes: 1024",
        "backends:",
        "  - url: http://h",
        "    weight: 10000",
      ));
      assert.equal(front(config).address, "0.0.0.0:65535");
      assert.equal(front(config).max_header_bytes, 1024);
      assert.equal(pool(config).backends[0]!.weight, 10000);
    });
  },
);

// ---------------------------------------------------------------------------
// Other field checks
// ---------------------------------------------------------------------------

Deno.test(
  "parseConfig() checks the format of hosts, addresses, methods, patterns and networks",
  PARSE,
  async (t) => {
    const cases: Array<[string, string[], string[]]> = [
      [
        "a listen host with spaces",
        ["server:", '  host: "not a host!"'],
        ['aegis.yml:2:9 server.host: "not a host!" is not an IP address or host name'],
      ],
      [
        "an admin address without a port",
        ["admin:", "  address: localhost"],
        ['aegis.yml:2:12 admin.address: "localhost" is not host:port (for IPv6 use [::1]:9090)'],
      ],
      [
        "a non-loopback admin address without a token",
        ["admin:", '  address: "0.0.0.0:9090"'],
        [
          "aegis.yml:2:12 admin.address: 0.0.0.0:9090 is reachable from other machines: " +
          "set admin.token so that /reload and /drain need it",
        ],
      ],
      [
        "an admin token that is too short",
        ["admin:", '  token: "secret"'],
        ["aegis.yml:2:10 admin.token: must be at least 16 printable characters without spaces"],
      ],
      [
        "an admin address on port 99999",
        ["admin:", '  address: "127.0.0.1:99999"'],
        ["aegis.yml:2:12 admin.address: port 99999 is out of range: must be 0–65535"],
      ],
      [
        "a bracketed admin host that is not IPv6",
        ["admin:", '  address: "[nothost]:9090"'],
        [
          'aegis.yml:2:12 admin.address: "[nothost]:9090" is not host:port (for IPv6 use [::1]:9090)',
        ],
      ],
      [
        "a metrics address without a port",
        ["admin:", "  metrics_address: localhost"],
        [
          'aegis.yml:2:20 admin.metrics_address: "localhost" is not host:port (for IPv6 use [::1]:9090)',
        ],
      ],
      [
        "a metrics address on port 99999",
        ["admin:", '  metrics_address: "0.0.0.0:99999"'],
        ["aegis.yml:2:20 admin.metrics_address: port 99999 is out of range: must be 0–65535"],
      ],
      [
        "methods in lower case, with spaces, or not strings",
        ["security:", '  allowed_methods: [get, "GET /", []]'],
        [
          "aegis.yml:2:21 security.allowed_methods[0]: methods are case-sensitive: write GET",
          'aegis.yml:2:26 security.allowed_methods[1]: "GET /" is not an HTTP method',
          "aegis.yml:2:35 security.allowed_methods[2]: expected string, found a list",
        ],
      ],
      [
        "an empty method list",
        ["security:", "  allowed_methods: []"],
        ["aegis.yml:2:20 security.allowed_methods: needs at least 1 item"],
      ],
      [
        "a host pattern with a space",
        ["security:", '  allowed_hosts: ["exa mple.com", "*.example.com"]'],
        [
          'aegis.yml:2:19 security.allowed_hosts[0]: "exa mple.com" is not a host name, host:port or *.domain pattern',
        ],
      ],
      [
        "networks with a prefix too long or no address",
        ["security:", '  allowed_backend_networks: ["10.0.0.0/33", "banana", "fd00::/8"]'],
        [
          'aegis.yml:2:30 security.allowed_backend_networks[0]: "10.0.0.0/33" is not a network such as 10.0.0.0/8',
          'aegis.yml:2:45 security.allowed_backend_networks[1]: "banana" is not a network such as 10.0.0.0/8',
        ],
      ],
      [
        "a health check path without a leading slash",
        ["health_check:", "  path: health"],
        ["aegis.yml:2:9 health_check.path: must start with /"],
      ],
    ];
    for (const [name, lines, expected] of cases) {
      await t.step(name, async () => {
        assert.deepEqual(await reject(yml(...lines, ...BACKEND)), expected);
      });
    }

    await t.step("good values of the same fields are accepted", async () => {
      const config = await accept(yml(
        "server:",
        '  host: "::"',
        "admin:",
        '  address: "[::1]:9091"',
        '  metrics_address: "0.0.0.0:9092"',
        "security:",
        "  allowed_methods: [GET, PROPFIND]",
        '  allowed_hosts: ["*.example.com", "example.com:8080", "[::1]:8080", "10.0.0.1"]',
        '  allowed_backend_networks: ["fd00::/8", "10.0.0.0/8", "192.168.1.1"]',
        ...BACKEND,
      ));
      assert.equal(front(config).address, "[::]:8080");
      assert.equal(config.admin.address, "[::1]:9091");
      assert.equal(config.admin.metrics_address, "0.0.0.0:9092", "needs no token: it only reads");
      assert.deepEqual(front(config).security.allowed_methods, ["GET", "PROPFIND"]);
    });
  },
);

// ---------------------------------------------------------------------------
// Required fields and the backends list
// ---------------------------------------------------------------------------

Deno.test(
  "parseConfig() reports missing required fields",
  PARSE,
  async (t) => {
    await t.step("no backends at all", async () => {
      assert.deepEqual(await reject(yml("server:", "  port: 80")), [
        "aegis.yml:1:1 backends: is required",
      ]);
    });

    await t.step("no backends, after a leading comment", async () => {
      assert.deepEqual(await reject(yml("# my proxy", "server:", "  port: 80")), [
        "aegis.yml:2:1 backends: is required",
      ]);
    });

    await t.step("a backend without a weight", async () => {
      assert.deepEqual(await reject(yml("backends:", "  - url: http://h")), [
        "aegis.yml:2:5 backends[0].weight: is required",
      ]);
    });

    await t.step("a backend without a URL", async () => {
      assert.deepEqual(await reject(yml("backends:", "  - weight: 1")), [
        "aegis.yml:2:5 backends[0]: needs a url (http pools) or an address (L4 pools: tcp and udp listeners)",
      ]);
    });

    await t.step("an empty backend item", async () => {
      assert.deepEqual(await reject(yml("backends:", "  -")), [
        "aegis.yml:2:4 backends[0].weight: is required",
      ]);
    });

    await t.step("`backends:` with no value", async () => {
      assert.deepEqual(await reject(yml("backends:")), [
        "aegis.yml:1:1 backends: has no value; expected list of mapping",
      ]);
    });

    await t.step("an empty backends list", async () => {
      assert.deepEqual(await reject(yml("backends: []")), [
        "aegis.yml:1:11 backends: needs at least 1 item",
      ]);
    });
  },
);

Deno.test(
  "parseConfig() reports duplicate backends, whatever way the URL is spelled",
  PARSE,
  async (t) => {
    const pairs: Array<[string, string, string]> = [
      ["an explicit default port and a trailing slash", "http://h:80", "http://h/"],
      ["the same URL twice", "http://h:8081", "http://h:8081"],
      ["an https default port", "https://h:443/api/", "https://h/api"],
      ["upper-case host", "http://H", "http://h"],
      ["several trailing slashes", "http://93.184.216.34//", "http://93.184.216.34"],
      ["IPv6 zero compression", "http://[2606:4700::1111]:80", "http://[2606:4700:0::1111]/"],
    ];
    for (const [name, first, second] of pairs) {
      await t.step(`${name}: ${first} and ${second}`, async () => {
        assert.deepEqual(
          await reject(yml(
            "backends:",
            `  - url: ${first}`,
            "    weight: 1",
            `  - url: ${second}`,
            "    weight: 1",
          )),
          [`aegis.yml:4:10 backends[1].url: duplicate of backends[0].url (${second})`],
        );
      });
    }

    await t.step("each later copy names the first", async () => {
      assert.deepEqual(
        await reject(yml(
          "backends:",
          "  - url: http://h",
          "    weight: 1",
          "  - url: http://backend.example",
          "    weight: 1",
          "  - url: http://h:80/",
          "    weight: 1",
          "  - url: http://backend.example/",
          "    weight: 1",
        )),
        [
          "aegis.yml:6:10 backends[2].url: duplicate of backends[0].url (http://h:80/)",
          "aegis.yml:8:10 backends[3].url: duplicate of backends[1].url (http://backend.example/)",
        ],
      );
    });

    await t.step("different schemes, ports or paths are different backends", async () => {
      const config = await accept(yml(
        "backends:",
        "  - url: http://h/a",
        "    weight: 1",
        "  - url: http://h/b",
        "    weight: 1",
        "  - url: https://h",
        "    weight: 1",
        "  - url: http://h:8080",
        "    weight: 1",
        "  - url: http://h:443",
        "    weight: 1",
      ));
      assert.equal(pool(config).backends.length, 5);
    });
  },
);

Deno.test(
  "parseConfig() reports a backend URL that Aegis cannot or should not use",
  PARSE,
  async (t) => {
    const cases: Array<[string, string, string]> = [
      ["an ftp scheme", "ftp://h", "scheme must be http or https, not ftp"],
      ["a file URL", "file:///etc/passwd", "scheme must be http or https, not file"],
      [
        "user and password",
        "http://user:secret@h",
        "must not contain credentials (user:password@); put secrets in headers at the backend",
      ],
      [
        "a user name alone",
        "http://user@h",
        "must not contain credentials (user:password@); put secrets in headers at the backend",
      ],
      ["port 0", "http://h:0", "port 0 is out of range: must be 1–65535"],
      ["port 99999", "http://h:99999", "port 99999 is out of range: must be 1–65535"],
      ["a query string", "http://h/?a=1", "must not have a query string or fragment"],
      ["an empty query string", "http://h/?", "must not have a query string or fragment"],
      ["a fragment", "http://h/#top", "must not have a query string or fragment"],
      ["no scheme", "h:8080", '"h:8080" is not an absolute URL (http://host:port)'],
      ["no host", "http://", '"http://" is not a valid URL'],
      ["a port that is not a number", "http://h:abc", '"http://h:abc" is not a valid URL'],
    ];
    for (const [name, url, message] of cases) {
      await t.step(`${name}: ${url}`, async () => {
        assert.deepEqual(await reject(yml("backends:", `  - url: "${url}"`, "    weight: 1")), [
          `aegis.yml:2:10 backends[0].url: ${message}`,
        ]);
      });
    }

    await t.step("a path prefix is allowed", async () => {
      const config = await accept(
        yml("backends:", "  - url: https://h:8443/api/v1", "    weight: 1"),
      );
      assert.equal(pool(config).backends[0]!.url, "https://h:8443/api/v1");
    });
  },
);

// ---------------------------------------------------------------------------
// Files that are not a configuration mapping
// ---------------------------------------------------------------------------

Deno.test(
  "parseConfig() reports YAML that cannot be parsed, and nothing else",
  PARSE,
  async (t) => {
    await t.step("an unclosed flow sequence", async () => {
      assert.deepEqual(await reject(yml("backends:", "  - url: [http://h", "    weight: 1")), [
        "aegis.yml:3:5 (syntax): Flow sequence in block collection must be sufficiently indented and end with a ]",
      ]);
    });

    await t.step("an unclosed quote", async () => {
      assert.deepEqual(await reject(yml("backends:", '  - url: "http://h')), [
        'aegis.yml:3:1 (syntax): Missing closing "quote',
      ]);
    });

    await t.step("a badly indented key", async () => {
      assert.deepEqual(await reject(yml("server:", "  port: 8080", " bad: 1", ...BACKEND)), [
        "aegis.yml:3:1 (syntax): All mapping items must start at the same column",
      ]);
    });

    await t.step("a tab used for indentation", async () => {
      assert.deepEqual(await reject(yml("\tserver: 1", ...BACKEND)), [
        "aegis.yml:1:1 (syntax): Tabs are not allowed as indentation",
      ]);
    });

    await t.step("a duplicate key", async () => {
      assert.deepEqual(await reject(yml("server:", "  port: 1", "  port: 2", ...BACKEND)), [
        "aegis.yml:3:3 (syntax): Map keys must be unique",
      ]);
    });

    await t.step("a duplicate top-level section", async () => {
      assert.deepEqual(await reject(yml(...BACKEND, ...BACKEND)), [
        "aegis.yml:4:1 (syntax): Map keys must be unique",
      ]);
    });

    await t.step("more than one document", async () => {
      const problems = await reject(yml(...BACKEND, "---", "server: {}"));
      assert.equal(problems.length, 1);
      assert.match(problems[0]!, /^aegis\.yml:4:1 \(syntax\): /);
    });

    await t.step("schema problems are not reported on top of a syntax error", async () => {
      assert.deepEqual(await reject(yml("server:", "  port: 70000", "  port: 2", ...BACKEND)), [
        "aegis.yml:3:3 (syntax): Map keys must be unique",
      ]);
    });
  },
);

Deno.test(
  "parseConfig() reports a file with no configuration mapping",
  PARSE,
  async (t) => {
    await t.step("an empty file", async () => {
      assert.deepEqual(await reject(""), ["aegis.yml:1:1 backends: is required"]);
    });

    await t.step("a file with only comments", async () => {
      assert.deepEqual(await reject(yml("# nothing here")), [
        "aegis.yml:1:1 backends: is required",
      ]);
    });

    await t.step("a list at the root", async () => {
      assert.deepEqual(await reject(yml("- a", "- b")), [
        "aegis.yml:1:1 (root): expected a mapping, found a list",
      ]);
    });

    await t.step("a number at the root", async () => {
      assert.deepEqual(await reject(yml("42")), [
        "aegis.yml:1:1 (root): expected a mapping, found number 42",
      ]);
    });

    await t.step("a string at the root", async () => {
      assert.deepEqual(await reject(yml('"backends"')), [
        'aegis.yml:1:1 (root): expected a mapping, found the string "backends"',
      ]);
    });
  },
);

Deno.test(
  "parseConfig() counts lines the same in a file with CRLF line endings",
  PARSE,
  async () => {
    const text = yml("server:", "  port: 70000", ...BACKEND).replaceAll("\n", "\r\n");
    assert.deepEqual(await reject(text), [
      "aegis.yml:2:9 server.port: 70000 is out of range: must be 0–65535",
    ]);
  },
);

// ---------------------------------------------------------------------------
// All problems at once
// ---------------------------------------------------------------------------

Deno.test(
  "parseConfig() reports every problem of a file at once, sorted by line",
  PARSE,
  async () => {
    const text = yml(
      "health_check:", // 1
      "  interval: 1s", // 2
      "  timeout: 5s", // 3: cross-field check, found after the schema pass
      "server:", // 4
      "  port: 70000", // 5
      "  bogus: 1", // 6
      "  read_timeout: soon", // 7
      "backends:", // 8
      "  - url: ftp://h", // 9
      "    weight: 0", // 10
      "  - url: http://10.0.0.1", // 11: SSRF check, found last of all
      "    weight: 1", // 12
      "  - url: http://nowhere.example", // 13: resolution fails
      "    weight: 1", // 14
      "logging:", // 15
      "  level: loud", // 16
      "tui:", // 17
      "  enabled: yes", // 18
      "extra: true", // 19
    );
    assert.deepEqual(await reject(text), [
      "aegis.yml:3:12 health_check.timeout: must not exceed health_check.interval",
      "aegis.yml:5:9 server.port: 70000 is out of range: must be 0–65535",
      'aegis.yml:6:3 server.bogus: unknown key "bogus"; expected one of: host, port, ' +
      "read_timeout, write_timeout, idle_timeout, max_header_bytes, max_body_bytes, " +
      "shutdown_timeout, workers, max_connections, max_connections_per_client",
      'aegis.yml:7:17 server.read_timeout: invalid duration "soon": use a number and a unit (ms, s, m, h)',
      "aegis.yml:9:10 backends[0].url: scheme must be http or https, not ftp",
      "aegis.yml:10:13 backends[0].weight: 0 is out of range: must be 1–10000",
      "aegis.yml:11:10 backends[1].url: 10.0.0.1 is a private address, refused to prevent SSRF; " +
      "to trust it, add its network to security.allowed_backend_networks",
      'aegis.yml:13:10 backends[2].url: cannot resolve host "nowhere.example": ENOTFOUND',
      'aegis.yml:16:10 logging.level: must be one of debug, info, warn, error; found "loud"',
      'aegis.yml:18:12 tui.enabled: expected true or false, found "yes"',
      'aegis.yml:19:1 extra: unknown key "extra"; expected one of: server, backends, ' +
      "listeners, pools, load_balancing, retries, health_check, rate_limit, adaptive, circuit_breaker, logging, " +
      "tui, development, admin, tracing, security, upstream",
    ]);
  },
);

// ---------------------------------------------------------------------------
// Cross-field checks
// ---------------------------------------------------------------------------

Deno.test(
  "parseConfig() requires health_check.timeout not to exceed health_check.interval",
  PARSE,
  async (t) => {
    await t.step("a timeout longer than the interval is reported at the timeout", async () => {
      assert.deepEqual(
        await reject(yml("health_check:", "  interval: 2s", "  timeout: 3s", ...BACKEND)),
        ["aegis.yml:3:12 health_check.timeout: must not exceed health_check.interval"],
      );
    });

    await t.step("a timeout above the default interval is reported", async () => {
      assert.deepEqual(await reject(yml("health_check:", "  timeout: 11s", ...BACKEND)), [
        "aegis.yml:2:12 health_check.timeout: must not exceed health_check.interval",
      ]);
    });

    await t.step(
      "an interval below the default timeout is reported where the section begins",
      async () => {
        assert.deepEqual(await reject(yml(...BACKEND, "health_check:", "  interval: 1s")), [
          "aegis.yml:5:3 health_check.timeout: must not exceed health_check.interval",
        ]);
      },
    );

    await t.step("a timeout equal to the interval is accepted", async () => {
      const config = await accept(
        yml("health_check:", "  interval: 3s", "  timeout: 3s", ...BACKEND),
      );
      assert.equal(pool(config).health_check.timeout, 3000);
    });
  },
);

Deno.test(
  "parseConfig() requires adaptive.min_rate not to exceed adaptive.max_rate",
  PARSE,
  async (t) => {
    await t.step("min_rate above max_rate is reported at min_rate", async () => {
      assert.deepEqual(
        await reject(yml("adaptive:", "  min_rate: 600", "  max_rate: 400", ...BACKEND)),
        ["aegis.yml:2:13 adaptive.min_rate: 600 is above adaptive.max_rate (400)"],
      );
    });

    await t.step("min_rate above the default max_rate is reported", async () => {
      assert.deepEqual(await reject(yml("adaptive:", "  min_rate: 600", ...BACKEND)), [
        "aegis.yml:2:13 adaptive.min_rate: 600 is above adaptive.max_rate (500)",
      ]);
    });

    await t.step(
      "an inverted range is not also reported as a bad requests_per_second",
      async () => {
        assert.deepEqual(
          await reject(yml(
            "adaptive:",
            "  min_rate: 600",
            "rate_limit:",
            "  requests_per_second: 1000",
            ...BACKEND,
          )),
          ["aegis.yml:2:13 adaptive.min_rate: 600 is above adaptive.max_rate (500)"],
        );
      },
    );

    await t.step("min_rate equal to max_rate is accepted", async () => {
      const config = await accept(yml(
        "adaptive:",
        "  min_rate: 100",
        "  max_rate: 100",
        ...BACKEND,
      ));
      assert.equal(front(config).adaptive.min_rate, 100);
    });
  },
);

Deno.test(
  "parseConfig() requires rate_limit.requests_per_second inside [adaptive.min_rate, adaptive.max_rate]",
  PARSE,
  async (t) => {
    const rate = (rps: number) => [
      "adaptive:",
      "  min_rate: 10",
      "  max_rate: 50",
      "rate_limit:",
      `  requests_per_second: ${rps}`,
      ...BACKEND,
    ];

    await t.step("below min_rate", async () => {
      assert.deepEqual(await reject(yml(...rate(5))), [
        "aegis.yml:5:24 rate_limit.requests_per_second: 5 is outside the adaptive range 10–50 " +
        "(adaptive.min_rate, adaptive.max_rate)",
      ]);
    });

    await t.step("above max_rate", async () => {
      assert.deepEqual(await reject(yml(...rate(100))), [
        "aegis.yml:5:24 rate_limit.requests_per_second: 100 is outside the adaptive range 10–50 " +
        "(adaptive.min_rate, adaptive.max_rate)",
      ]);
    });

    await t.step("the bounds themselves are accepted", async () => {
      assert.equal(front(await accept(yml(...rate(10)))).rate_limit.requests_per_second, 10);
      assert.equal(front(await accept(yml(...rate(50)))).rate_limit.requests_per_second, 50);
    });

    await t.step("below the default range when the adaptive section is left out", async () => {
      assert.deepEqual(await reject(yml("rate_limit:", "  requests_per_second: 5", ...BACKEND)), [
        "aegis.yml:2:24 rate_limit.requests_per_second: 5 is outside the adaptive range 10–500 " +
        "(adaptive.min_rate, adaptive.max_rate)",
      ]);
    });

    await t.step("above the default range when the adaptive section is empty", async () => {
      assert.deepEqual(
        await reject(yml("adaptive:", "rate_limit:", "  requests_per_second: 501", ...BACKEND)),
        [
          "aegis.yml:3:24 rate_limit.requests_per_second: 501 is outside the adaptive range " +
          "10–500 (adaptive.min_rate, adaptive.max_rate)",
        ],
      );
    });

    await t.step(
      "the default rate outside a narrowed range when rate_limit is left out",
      async () => {
        const problems = await reject(yml("adaptive:", "  min_rate: 200", ...BACKEND));
        assert.equal(problems.length, 1);
        assert.match(
          problems[0]!,
          / rate_limit\.requests_per_second: 100 is outside the adaptive range 200–500 /,
        );
      },
    );
  },
);

Deno.test(
  "parseConfig() still runs cross-field checks when an unrelated field in the same section fails",
  PARSE,
  async () => {
    assert.deepEqual(
      await reject(yml(
        "health_check:",
        "  interval: 1s",
        "  timeout: 2s",
        "  path: nope",
        ...BACKEND,
      )),
      [
        "aegis.yml:3:12 health_check.timeout: must not exceed health_check.interval",
        "aegis.yml:4:9 health_check.path: must start with /",
      ],
    );
  },
);

// ---------------------------------------------------------------------------
// loadConfigFile
// ---------------------------------------------------------------------------

Deno.test("loadConfigFile() reads and validates a file", FILES, async (t) => {
  await t.step("a valid file", async () => {
    await using file = await tempConfig(yml(...BACKEND));
    const r = await loadConfigFile(file.path, { resolver });
    assert.ok(r.ok);
    assert.equal(front(r.config).address, "0.0.0.0:8080");
  });

  await t.step("an invalid file returns diagnostics instead of throwing", async () => {
    await using file = await tempConfig(yml("server:", "  port: 70000", ...BACKEND));
    const r = await loadConfigFile(file.path, { resolver });
    assert.ok(!r.ok);
    assert.deepEqual(r.diagnostics.map((d) => formatDiagnostic(file.path, d)), [
      `${file.path}:2:9 server.port: 70000 is out of range: must be 0–65535`,
    ]);
  });
});

Deno.test("loadConfigFile() throws ConfigFileError for a file it cannot read", FILES, async (t) => {
  await t.step("a missing file", async () => {
    await using file = await tempConfig("");
    const missing = `${file.path}.missing`;
    await assert.rejects(loadConfigFile(missing, { resolver }), (e: unknown) => {
      assert.ok(e instanceof ConfigFileError);
      assert.equal(e.name, "ConfigFileError");
      assert.equal(e.message, `cannot read config file ${missing}: no such file`);
      return true;
    });
  });

  await t.step("a directory", async () => {
    await using file = await tempConfig("");
    const dir = file.path.slice(0, file.path.lastIndexOf("/"));
    await assert.rejects(loadConfigFile(dir, { resolver }), (e: unknown) => {
      assert.ok(e instanceof ConfigFileError);
      assert.equal(e.message, `cannot read config file ${dir}: is a directory`);
      return true;
    });
  });

  await t.step("a file that is not UTF-8 text", async () => {
    const bytes = new TextEncoder().encode(yml(...BACKEND));
    await using file = await tempConfig(new Uint8Array([...bytes, 0xff, 0xfe, 0x0a]));
    await assert.rejects(loadConfigFile(file.path, { resolver }), (e: unknown) => {
      assert.ok(e instanceof ConfigFileError, `expected ConfigFileError, got ${e}`);
      assert.equal(e.message, `cannot read config file ${file.path}: not a UTF-8 text file`);
      return true;
    });
  });
});

Deno.test(
  "parseConfig() takes server.max_connections as auto or a positive integer",
  PARSE,
  async (t) => {
    await t.step("auto by default, and printed as auto", async () => {
      const config = await accept(yml(...BACKEND));
      assert.equal(front(config).max_connections, "auto");
      assert.equal(front(config).max_connections_per_client, 256);
      const printed = printableConfig(config) as { listeners: Array<Record<string, unknown>> };
      assert.equal(printed.listeners[0]!.max_connections, "auto");
    });
    await t.step("an explicit number", async () => {
      const config = await accept(
        yml("server:", "  max_connections: 5000", "  max_connections_per_client: 20", ...BACKEND),
      );
      assert.equal(front(config).max_connections, 5000);
      assert.equal(front(config).max_connections_per_client, 20);
    });
    await t.step("0, a fraction, a word and a negative number are refused", async () => {
      assert.deepEqual(
        await reject(
          yml(
            "server:",
            "  max_connections: 0",
            "  max_connections_per_client: -1",
            ...BACKEND,
          ),
        ),
        [
          "aegis.yml:2:20 server.max_connections: 0 is out of range: must be 1–10000000",
          "aegis.yml:3:31 server.max_connections_per_client: -1 is out of range: must be 1–10000000",
        ],
      );
      assert.deepEqual(await reject(yml("server:", "  max_connections: 1.5", ...BACKEND)), [
        "aegis.yml:2:20 server.max_connections: expected integer 1–10000000, found 1.5",
      ]);
      assert.deepEqual(await reject(yml("server:", "  max_connections: many", ...BACKEND)), [
        'aegis.yml:2:20 server.max_connections: expected "auto" | integer 1–10000000, found "many"',
      ]);
    });
  },
);
