import assert from "node:assert/strict";
import { formatDiagnostic, parseConfig, type Resolver } from "../../src/config/mod.ts";
import { fakeResolver } from "../_helpers/config.ts";

/** Parsing YAML takes no permission but these: npm:yaml reads them to decide whether to trace. */
const PARSE: { permissions: Deno.PermissionOptionsObject } = {
  permissions: { env: ["LOG_TOKENS", "LOG_STREAM"] },
};

const LOOPBACK_HINT = "; set development.allow_loopback_backends: true for local testing";
const NETWORK_HINT = "; to trust it, add its network to security.allowed_backend_networks";

const names = fakeResolver({
  "public.example": ["93.184.216.34", "2606:4700::1111"],
  "mixed.example": ["93.184.216.34", "10.0.0.5"],
  "mixed-v6.example": ["2606:4700::1111", "fd00::5"],
  "private-first.example": ["192.168.0.7", "93.184.216.34"],
  "loopback.example": ["127.0.0.1", "::1"],
  "loopback-and-private.example": ["127.0.0.1", "10.0.0.1"],
  "metadata.example": ["169.254.169.254"],
  "ten.example": ["10.20.30.40"],
  "mapped.example": ["::ffff:10.0.0.1"],
  "nothing.example": [],
  "junk.example": ["not-an-address"],
});

/** YAML text from lines. */
function yml(...lines: string[]): string {
  return lines.join("\n") + "\n";
}

/**
 * Runs the loader on one backend `url` (plus `extra` lines before it) and
 * returns the SSRF verdict: `undefined` when accepted, else the one message.
 */
async function verdict(
  url: string,
  extra: string[] = [],
  resolver: Resolver = names,
): Promise<string | undefined> {
  const text = yml(...extra, "backends:", `  - url: "${url}"`, "    weight: 1");
  const r = await parseConfig(text, { file: "aegis.yml", resolver });
  if (r.ok) return undefined;
  const lines = r.diagnostics.map((d) => formatDiagnostic("aegis.yml", d));
  assert.equal(lines.length, 1, `expected one problem, got:\n${lines.join("\n")}`);
  const d = r.diagnostics[0]!;
  assert.equal(d.path, "backends[0].url", lines[0]);
  assert.equal(d.line, extra.length + 2, lines[0]);
  return d.message;
}

async function accepts(url: string, extra: string[] = []): Promise<void> {
  assert.equal(await verdict(url, extra), undefined, `${url} should be accepted`);
}

const LOOPBACK_OK = ["development:", "  allow_loopback_backends: true"];
const networks = (...cidrs: string[]) => [
  "security:",
  `  allowed_backend_networks: [${cidrs.map((c) => JSON.stringify(c)).join(", ")}]`,
];

Deno.test(
  "the SSRF check refuses loopback backends",
  PARSE,
  async (t) => {
    const cases: Array<[string, string]> = [
      ["http://127.0.0.1", "127.0.0.1"],
      ["http://127.5.5.5:8080", "127.5.5.5"],
      ["http://127.255.255.254/api", "127.255.255.254"],
      ["http://[::1]:8080", "::1"],
    ];
    for (const [url, shown] of cases) {
      await t.step(url, async () => {
        assert.equal(
          await verdict(url),
          `${shown} is a loopback address, refused to prevent SSRF${LOOPBACK_HINT}`,
        );
      });
    }

    await t.step("http://[::ffff:127.0.0.1], an IPv4-mapped IPv6 address", async () => {
      const message = await verdict("http://[::ffff:127.0.0.1]");
      assert.match(
        message ?? "",
        /^::ffff:\S+ is a loopback address, refused to prevent SSRF; set /,
      );
    });
  },
);

Deno.test(
  "the SSRF check refuses the private networks of RFC 1918",
  PARSE,
  async (t) => {
    for (
      const ip of [
        "10.0.0.1",
        "10.255.255.255",
        "172.16.0.1",
        "172.20.1.1",
        "172.31.255.255",
        "192.168.0.1",
        "192.168.255.255",
      ]
    ) {
      await t.step(ip, async () => {
        assert.equal(
          await verdict(`http://${ip}`),
          `${ip} is a private address, refused to prevent SSRF${NETWORK_HINT}`,
        );
      });
    }

    for (const ip of ["9.255.255.255", "11.0.0.1", "172.15.255.255", "172.32.0.1", "192.169.0.1"]) {
      await t.step(`${ip}, just outside, is accepted`, async () => {
        await accepts(`http://${ip}`);
      });
    }
  },
);

Deno.test(
  "the SSRF check refuses link-local, unique-local, shared and other special ranges",
  PARSE,
  async (t) => {
    const cases: Array<[string, string, string]> = [
      ["http://169.254.1.1", "169.254.1.1", "a link-local"],
      ["http://169.254.255.255", "169.254.255.255", "a link-local"],
      ["http://[fe80::1]", "fe80::1", "a link-local"],
      ["http://[fd00::1]", "fd00::1", "a unique-local"],
      ["http://[fc00::1]", "fc00::1", "a unique-local"],
      ["http://100.64.0.1", "100.64.0.1", "a shared"],
      ["http://100.127.255.255", "100.127.255.255", "a shared"],
      ["http://224.0.0.1", "224.0.0.1", "a multicast"],
      ["http://[ff02::1]", "ff02::1", "a multicast"],
      ["http://240.0.0.1", "240.0.0.1", "a reserved"],
      ["http://255.255.255.255", "255.255.255.255", "a reserved"],
    ];
    for (const [url, shown, what] of cases) {
      await t.step(url, async () => {
        assert.equal(
          await verdict(url),
          `${shown} is ${what} address, refused to prevent SSRF${NETWORK_HINT}`,
        );
      });
    }

    await t.step("100.128.0.1, just outside the shared range, is accepted", async () => {
      await accepts("http://100.128.0.1");
    });
  },
);

Deno.test(
  "the SSRF check refuses the unspecified address",
  PARSE,
  async (t) => {
    const cases: Array<[string, string]> = [
      ["http://0.0.0.0", "0.0.0.0"],
      ["http://0.1.2.3", "0.1.2.3"],
      ["http://[::]", "::"],
    ];
    for (const [url, shown] of cases) {
      await t.step(url, async () => {
        assert.equal(
          await verdict(url),
          `${shown} is an unspecified address, refused to prevent SSRF${NETWORK_HINT}`,
        );
      });
    }
  },
);

Deno.test(
  "the SSRF check names cloud metadata endpoints as such and offers no way around",
  PARSE,
  async (t) => {
    const cases: Array<[string, string]> = [
      ["http://169.254.169.254", "169.254.169.254"],
      ["http://169.254.169.254/latest/meta-data", "169.254.169.254"],
      ["http://[fd00:ec2::254]", "fd00:ec2::254"],
      ["http://100.100.100.200", "100.100.100.200"],
    ];
    for (const [url, shown] of cases) {
      await t.step(url, async () => {
        assert.equal(await verdict(url), `${shown} is a metadata address, refused to prevent SSRF`);
      });
    }

    await t.step("http://[::ffff:169.254.169.254], the mapped form", async () => {
      assert.match(
        (await verdict("http://[::ffff:169.254.169.254]")) ?? "",
        /^::ffff:\S+ is a metadata address, refused to prevent SSRF$/,
      );
    });
  },
);

Deno.test(
  "the SSRF check accepts public addresses",
  PARSE,
  async (t) => {
    for (
      const url of [
        "http://93.184.216.34",
        "https://93.184.216.34:8443/api",
        "http://8.8.8.8",
        "http://[2606:4700::1111]",
        "http://[2606:4700::1111]:8080",
        "http://public.example",
      ]
    ) {
      await t.step(url, async () => {
        await accepts(url);
      });
    }
  },
);

Deno.test(
  "the SSRF check resolves host names and refuses them if ANY address is not public",
  PARSE,
  async (t) => {
    await t.step("the private address second", async () => {
      assert.equal(
        await verdict("http://mixed.example"),
        `host "mixed.example" resolves to 10.0.0.5, a private address, refused to prevent SSRF${NETWORK_HINT}`,
      );
    });

    await t.step("the private address first", async () => {
      assert.equal(
        await verdict("http://private-first.example:8080"),
        `host "private-first.example" resolves to 192.168.0.7, a private address, refused to prevent SSRF${NETWORK_HINT}`,
      );
    });

    await t.step("an IPv6 unique-local address among public ones", async () => {
      assert.equal(
        await verdict("http://mixed-v6.example"),
        `host "mixed-v6.example" resolves to fd00::5, a unique-local address, refused to prevent SSRF${NETWORK_HINT}`,
      );
    });

    await t.step("a name for loopback", async () => {
      assert.equal(
        await verdict("http://loopback.example"),
        `host "loopback.example" resolves to 127.0.0.1, a loopback address, refused to prevent SSRF${LOOPBACK_HINT}`,
      );
    });

    await t.step("a name for the metadata endpoint", async () => {
      assert.equal(
        await verdict("http://metadata.example"),
        `host "metadata.example" resolves to 169.254.169.254, a metadata address, refused to prevent SSRF`,
      );
    });

    await t.step("a name for an IPv4-mapped private address", async () => {
      assert.equal(
        await verdict("http://mapped.example"),
        `host "mapped.example" resolves to ::ffff:10.0.0.1, a private address, refused to prevent SSRF${NETWORK_HINT}`,
      );
    });
  },
);

Deno.test("the SSRF check reports a host it cannot resolve, naming the host", PARSE, async (t) => {
  await t.step("an unknown name", async () => {
    assert.equal(
      await verdict("http://nowhere.example"),
      'cannot resolve host "nowhere.example": ENOTFOUND',
    );
  });

  await t.step("a name with no addresses", async () => {
    assert.equal(
      await verdict("http://nothing.example"),
      'host "nothing.example" resolves to no address',
    );
  });

  await t.step("a resolver answer that is not an address", async () => {
    assert.equal(
      await verdict("http://junk.example"),
      'host "junk.example" resolved to an unreadable address "not-an-address"',
    );
  });

  await t.step("a resolver error without a code is described by its message", async () => {
    const failing: Resolver = () => Promise.reject(new Error("DNS lookup timed out after 5s"));
    assert.equal(
      await verdict("http://slow.example", [], failing),
      'cannot resolve host "slow.example": DNS lookup timed out after 5s',
    );
  });
});

Deno.test(
  "the SSRF check asks the resolver only for host names, without port or path",
  PARSE,
  async () => {
    const asked: string[] = [];
    const recording: Resolver = (host) => {
      asked.push(host);
      return names(host);
    };
    const text = yml(
      "backends:",
      "  - url: http://93.184.216.34:8080",
      "    weight: 1",
      "  - url: http://[2606:4700::1111]",
      "    weight: 1",
      "  - url: https://Public.Example:8443/api/",
      "    weight: 1",
    );
    const r = await parseConfig(text, { file: "aegis.yml", resolver: recording });
    assert.ok(r.ok);
    assert.deepEqual(asked, ["public.example"]);
  },
);

Deno.test("the SSRF check reports every refused backend, each at its own line", PARSE, async () => {
  const text = yml(
    "backends:",
    "  - url: http://10.0.0.1",
    "    weight: 1",
    "  - url: http://93.184.216.34",
    "    weight: 1",
    "  - url: http://169.254.169.254",
    "    weight: 1",
    "  - url: http://nowhere.example",
    "    weight: 1",
  );
  const r = await parseConfig(text, { file: "aegis.yml", resolver: names });
  assert.ok(!r.ok);
  assert.deepEqual(r.diagnostics.map((d) => formatDiagnostic("aegis.yml", d)), [
    `aegis.yml:2:10 backends[0].url: 10.0.0.1 is a private address, refused to prevent SSRF${NETWORK_HINT}`,
    "aegis.yml:6:10 backends[2].url: 169.254.169.254 is a metadata address, refused to prevent SSRF",
    'aegis.yml:8:10 backends[3].url: cannot resolve host "nowhere.example": ENOTFOUND',
  ]);
});

Deno.test(
  "development.allow_loopback_backends: true lets loopback through and nothing else",
  PARSE,
  async (t) => {
    for (
      const url of [
        "http://127.0.0.1:8081",
        "http://127.5.5.5",
        "http://[::1]:8081",
        "http://[::ffff:127.0.0.1]",
        "http://loopback.example",
      ]
    ) {
      await t.step(`accepts ${url}`, async () => {
        await accepts(url, LOOPBACK_OK);
      });
    }

    const refused: Array<[string, string]> = [
      ["http://10.1.2.3", `10.1.2.3 is a private address, refused to prevent SSRF${NETWORK_HINT}`],
      [
        "http://192.168.1.1",
        `192.168.1.1 is a private address, refused to prevent SSRF${NETWORK_HINT}`,
      ],
      ["http://169.254.169.254", "169.254.169.254 is a metadata address, refused to prevent SSRF"],
      [
        "http://[fd00::1]",
        `fd00::1 is a unique-local address, refused to prevent SSRF${NETWORK_HINT}`,
      ],
      [
        "http://loopback-and-private.example",
        `host "loopback-and-private.example" resolves to 10.0.0.1, a private address, refused to prevent SSRF${NETWORK_HINT}`,
      ],
    ];
    for (const [url, message] of refused) {
      await t.step(`still refuses ${url}`, async () => {
        assert.equal(await verdict(url, LOOPBACK_OK), message);
      });
    }

    await t.step("still refuses 0.0.0.0, which is not loopback", async () => {
      assert.match(
        (await verdict("http://0.0.0.0", LOOPBACK_OK)) ?? "",
        /^0\.0\.0\.0 is an? unspecified address/,
      );
    });

    await t.step("false, written out, refuses loopback", async () => {
      assert.equal(
        await verdict("http://127.0.0.1", ["development:", "  allow_loopback_backends: false"]),
        `127.0.0.1 is a loopback address, refused to prevent SSRF${LOOPBACK_HINT}`,
      );
    });
  },
);

Deno.test("security.allowed_backend_networks trusts the listed networks only", PARSE, async (t) => {
  const tenOnly = networks("10.0.0.0/8");
  for (
    const url of [
      "http://10.1.2.3",
      "http://10.255.0.1:8080",
      "http://ten.example",
      "http://mapped.example",
      "http://[::ffff:10.1.2.3]",
    ]
  ) {
    await t.step(`10.0.0.0/8 accepts ${url}`, async () => {
      await accepts(url, tenOnly);
    });
  }

  await t.step("10.0.0.0/8 does not accept 192.168.1.1", async () => {
    assert.equal(
      await verdict("http://192.168.1.1", tenOnly),
      `192.168.1.1 is a private address, refused to prevent SSRF${NETWORK_HINT}`,
    );
  });

  await t.step("10.0.0.0/8 does not accept loopback", async () => {
    assert.equal(
      await verdict("http://127.0.0.1", tenOnly),
      `127.0.0.1 is a loopback address, refused to prevent SSRF${LOOPBACK_HINT}`,
    );
  });

  await t.step("a single address is a network of one", async () => {
    await accepts("http://192.168.1.10", networks("192.168.1.10"));
    assert.equal(
      await verdict("http://192.168.1.11", networks("192.168.1.10")),
      `192.168.1.11 is a private address, refused to prevent SSRF${NETWORK_HINT}`,
    );
  });

  await t.step("an IPv6 network accepts its addresses", async () => {
    await accepts("http://[fd00::1]", networks("fd00::/8"));
  });
});

Deno.test(
  "security.allowed_backend_networks never trusts a metadata endpoint",
  PARSE,
  async (t) => {
    const cases: Array<[string, string[], string]> = [
      ["http://169.254.169.254", networks("169.254.0.0/16"), "169.254.169.254"],
      ["http://169.254.169.254", networks("169.254.169.254/32"), "169.254.169.254"],
      ["http://169.254.169.254", networks("0.0.0.0/0"), "169.254.169.254"],
      ["http://100.100.100.200", networks("100.64.0.0/10"), "100.100.100.200"],
      ["http://[fd00:ec2::254]", networks("fd00::/8"), "fd00:ec2::254"],
      ["http://[fd00:ec2::254]", networks("::/0"), "fd00:ec2::254"],
    ];
    for (const [url, extra, shown] of cases) {
      await t.step(`${url} with ${extra[1]!.trim()}`, async () => {
        assert.equal(
          await verdict(url, extra),
          `${shown} is a metadata address, refused to prevent SSRF`,
        );
      });
    }

    await t.step("the rest of 169.254.0.0/16 is trusted when listed", async () => {
      await accepts("http://169.254.1.1", networks("169.254.0.0/16"));
    });

    await t.step("nor when loopback is allowed too", async () => {
      assert.equal(
        await verdict("http://metadata.example", [...LOOPBACK_OK, ...networks("169.254.0.0/16")]),
        'host "metadata.example" resolves to 169.254.169.254, a metadata address, refused to prevent SSRF',
      );
    });
  },
);

Deno.test(
  "the SSRF check fails closed when the settings that relax it are invalid",
  PARSE,
  async (t) => {
    await t.step("a list with a bad network trusts none of its networks", async () => {
      const r = await parseConfig(
        yml(
          "security:",
          '  allowed_backend_networks: ["10.0.0.0/8", "banana"]',
          "backends:",
          "  - url: http://10.1.2.3",
          "    weight: 1",
        ),
        { file: "aegis.yml", resolver: names },
      );
      assert.ok(!r.ok);
      assert.deepEqual(r.diagnostics.map((d) => formatDiagnostic("aegis.yml", d)), [
        'aegis.yml:2:44 security.allowed_backend_networks[1]: "banana" is not a network such as 10.0.0.0/8',
        `aegis.yml:4:10 backends[0].url: 10.1.2.3 is a private address, refused to prevent SSRF${NETWORK_HINT}`,
      ]);
    });

    await t.step("allow_loopback_backends: yes is not true", async () => {
      const r = await parseConfig(
        yml(
          "development:",
          "  allow_loopback_backends: yes",
          "backends:",
          "  - url: http://127.0.0.1",
          "    weight: 1",
        ),
        { file: "aegis.yml", resolver: names },
      );
      assert.ok(!r.ok);
      assert.deepEqual(r.diagnostics.map((d) => formatDiagnostic("aegis.yml", d)), [
        'aegis.yml:2:28 development.allow_loopback_backends: expected true or false, found "yes"',
        `aegis.yml:4:10 backends[0].url: 127.0.0.1 is a loopback address, refused to prevent SSRF${LOOPBACK_HINT}`,
      ]);
    });
  },
);
