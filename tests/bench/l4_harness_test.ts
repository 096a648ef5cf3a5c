/**
 * The L4 scenarios' parts of the load benchmark, without iperf3, HAProxy or
 * nginx: iperf3 report parsing (canned iperf3 3.12 reports in `testdata/`),
 * the peers' and Aegis's L4 configurations, readiness probing, and the
 * verdicts of the report.
 *
 * @module
 */

import assert from "node:assert/strict";
import { parse as parseYaml } from "yaml";
import { aegisL4Config, firstProblem } from "./_aegis_l4.ts";
import { iperfArgs, parseIperf } from "./_iperf.ts";
import { haproxyTcpConfig, nginxStreamConfig, parseNginxStream } from "./_l4_peers.ts";
import { L4_SCENARIOS } from "./_l4_scenarios.ts";
import { type L4Runs, type L4Sample, renderL4Checks, renderL4Table } from "./_l4_table.ts";
import { udpPortsIn } from "./_net.ts";

const none = { permissions: "none" } as const;
// The yaml package looks at these to decide whether to print debug output.
const yamlEnv: Deno.TestDefinition["permissions"] = { env: ["LOG_TOKENS", "LOG_STREAM"] };

const testdata = (name: string) =>
  Deno.readTextFile(new URL(`./testdata/${name}`, import.meta.url));

Deno.test("bench: iperf3 reports are read from the receiving side, failures are errors", {
  permissions: { read: true },
}, async (t) => {
  await t.step("TCP: the bits per second the server received", async () => {
    const tcp = parseIperf(await testdata("iperf3_tcp.json"));
    assert.equal(tcp.protocol, "TCP");
    // sum_received's, not sum_sent's 12,712,311,382.
    assert.equal(tcp.bitsPerSecond, 12669615720.384375);
    assert.deepEqual([tcp.sent, tcp.delivered], [0, 0]);
  });
  await t.step("UDP: delivered is what arrived, not what was sent", async () => {
    const udp = parseIperf(await testdata("iperf3_udp.json"));
    assert.equal(udp.protocol, "UDP");
    assert.deepEqual([udp.sent, udp.delivered, udp.seconds], [48085, 48084 - 5480, 1.002976]);
  });
  await t.step("a report from before sum_received (iperf3 < 3.7) uses end.sum", () => {
    const old = parseIperf(JSON.stringify({
      start: { test_start: { protocol: "UDP" } },
      end: { sum: { seconds: 2, bits_per_second: 1, packets: 100, lost_packets: 10 } },
    }));
    assert.deepEqual([old.sent, old.delivered], [100, 90]);
  });
  await t.step("iperf3's own error, and output that is no report, are thrown", async () => {
    const refused = await testdata("iperf3_refused.json");
    assert.throws(
      () => parseIperf(refused),
      /iperf3: unable to connect to server: Connection refused/,
    );
    assert.throws(() => parseIperf("iperf3: command not found"), /cannot parse iperf3 output/);
  });
  await t.step("-b offers exactly the asked datagrams per second", () => {
    const args = iperfArgs({
      port: 5201,
      seconds: 5,
      udp: { datagramsPerSecond: 1000, bytes: 64 },
    });
    assert.deepEqual(args.slice(args.indexOf("-u")), ["-u", "-l", "64", "-b", "512000"]);
    assert.ok(!iperfArgs({ port: 5201, seconds: 5 }).includes("-u"));
  });
});

Deno.test("bench: L4 peer configurations relay one port to the backend's", none, async (t) => {
  await t.step("HAProxy: mode tcp, one thread, the backend checked hourly", () => {
    const conf = haproxyTcpConfig(7000, 7001, 20_000);
    for (const line of ["mode tcp", "nbthread 1", "bind 127.0.0.1:7000"]) {
      assert.match(conf, new RegExp(`^  ${line}$`, "m"));
    }
    assert.match(conf, /^ {2}server b1 127\.0\.0\.1:7001 check inter 1h$/m);
    assert.doesNotMatch(conf, /mode http/);
  });
  await t.step("nginx -V: Debian's dynamic stream module is found by absolute path", () => {
    const debian = "nginx version: nginx/1.22.1\nconfigure arguments: --prefix=/usr/share/nginx " +
      "--modules-path=/usr/lib/nginx/modules --with-stream=dynamic --with-stream_ssl_module";
    assert.deepEqual(parseNginxStream(debian), {
      build: "dynamic",
      module: "/usr/lib/nginx/modules/ngx_stream_module.so",
    });
    assert.deepEqual(parseNginxStream("configure arguments: --with-stream"), { build: "static" });
    assert.deepEqual(parseNginxStream("configure arguments: --with-http_ssl_module"), {
      build: "none",
    });
  });
  await t.step("nginx stream: TCP and UDP on one port, the module loaded only if dynamic", () => {
    const module = "/usr/lib/nginx/modules/ngx_stream_module.so";
    const conf = nginxStreamConfig(7000, 7001, "/tmp/b", 20_000, { build: "dynamic", module });
    assert.match(conf, /^load_module \/usr\/lib\/nginx\/modules\/ngx_stream_module\.so;$/m);
    assert.match(conf, /^ {4}listen 127\.0\.0\.1:7000;$/m);
    assert.match(conf, /^ {4}listen 127\.0\.0\.1:7000 udp;$/m);
    assert.equal(conf.match(/proxy_pass 127\.0\.0\.1:7001;/g)?.length, 2);
    assert.match(conf, /^worker_processes 1;$/m);
    assert.doesNotMatch(conf, /proxy_responses/);
    const builtIn = nginxStreamConfig(7000, 7001, "/tmp/b", 20_000, { build: "static" });
    assert.doesNotMatch(builtIn, /load_module/);
  });
});

Deno.test(
  "bench: the Aegis L4 configuration, and the line that says why it was refused",
  { permissions: yamlEnv },
  () => {
    const conf = parseYaml(aegisL4Config(7000, 7001));
    assert.deepEqual(
      conf.listeners.map((l: Record<string, unknown>) => [l.name, l.protocol, l.address, l.pool]),
      [["tcp", "tcp", "127.0.0.1:7000", "tcp_backends"], [
        "udp",
        "udp",
        "127.0.0.1:7000",
        "udp_backends",
      ]],
    );
    for (const l of conf.listeners) assert.deepEqual(l.rate_limit.exempt, ["127.0.0.0/8"]);
    assert.equal(conf.listeners[0].routes, undefined);
    assert.deepEqual(conf.listeners[1].udp, { session_timeout: "30s", max_sessions: 10000 });
    for (const pool of ["tcp_backends", "udp_backends"]) {
      assert.deepEqual(conf.pools[pool].backends, [{ address: "127.0.0.1:7001", weight: 1 }]);
    }
    assert.equal(conf.development.allow_loopback_backends, true);
    assert.equal(conf.logging.level, "warn");

    const stderr = "/tmp/aegis-bench-x/check-l4.yml:2:5 listeners[0].routes: is required\n" +
      "/tmp/aegis-bench-x/check-l4.yml:3:15 listeners[0].protocol: …\naegis: 2 problems";
    assert.equal(
      firstProblem(stderr, "/tmp/aegis-bench-x"),
      "check-l4.yml:2:5 listeners[0].routes: is required",
    );
  },
);

Deno.test("bench: bound UDP ports are read from /proc/net/udp", none, () => {
  const procNetUdp = [
    "   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid",
    "  746: 00000000:C719 00000000:0000 07 00000000:0000AA00 00:00000000 00000000     0",
    " 5816: 0100007F:1538 00000000:0000 07 00000000:00009600 00:00000000 00000000     0",
    " 5817: 0200A8C0:0035 00000000:0000 07 00000000:00000000 00:00000000 00000000     0",
  ].join("\n");
  assert.deepEqual([...udpPortsIn(procNetUdp)], [0xC719, 5432]);
});

const l4 = (rate: number, rssMiB = 10, lossPct?: number): L4Sample => ({
  rate,
  errors: 0,
  lossPct,
  rssKiB: rssMiB * 1024,
});

const l4Runs = (
  id: number,
  byTarget: Record<string, L4Sample[]>,
  unavailable: Record<string, string> = {},
): L4Runs => ({
  scenario: L4_SCENARIOS.find((s) => s.id === id)!,
  samples: new Map(Object.entries(byTarget)),
  unavailable: new Map(Object.entries(unavailable)),
});

Deno.test(
  "bench report: each L4 target of the issue gets its verdict against its peer",
  none,
  () => {
    const runs = [
      // Median 6.5 Gbit/s against HAProxy's 10: 0.65× passes, as shown.
      l4Runs(8, {
        direct: [l4(20e9)],
        "aegis l4": [l4(6.5e9), l4(1e9), l4(9e9)],
        haproxy: [l4(10e9)],
        nginx: [l4(9e9)],
      }),
      l4Runs(9, { direct: [l4(10_000)], "aegis l4": [l4(1_000)], haproxy: [l4(5_000)] }),
      // 0.996× rounds to the 1.00× the line shows: PASS, not a FAIL beside "1.00×".
      l4Runs(10, {
        direct: [l4(50_000, 4, 0)],
        "aegis l4": [l4(49_800, 40, 0.4)],
        nginx: [l4(50_000)],
      }),
    ];
    const checks = renderL4Checks(runs).split("\n");
    const about = (id: number) => checks.find((l) => l.includes(`scenario ${id},`)) ?? "";
    assert.match(
      about(8),
      /^- \*\*PASS\*\* .*≥ 0\.65× HAProxy: aegis l4 6\.50 Gbit\/s = 0\.65× haproxy; haproxy 10\.00 Gbit\/s/,
    );
    assert.match(
      about(9),
      /^- \*\*FAIL\*\* .*≥ 0\.40× HAProxy: aegis l4 1,000 conn\/s = 0\.20× haproxy/,
    );
    assert.match(
      about(10),
      /^- \*\*PASS\*\* .*≥ 1\.00× nginx: aegis l4 49,800 datagrams\/s = 1\.00× nginx/,
    );

    const table = renderL4Table(runs);
    assert.match(
      table,
      /\| 8 \| TCP bulk \| aegis l4 \| 6\.50 Gbit\/s \| 0\.33× \| 0\.65× haproxy \| — \| 10\.0 MiB \|/,
    );
    assert.match(
      table,
      /\| 10 \| UDP \| aegis l4 \| 49,800 datagrams\/s \| 1\.00× \| 1\.00× nginx \| 0\.4% lost \| 40\.0 MiB \|/,
    );
  },
);

Deno.test(
  "bench report: an unavailable Aegis L4 or a skipped scenario is n/a, with why",
  none,
  () => {
    const why = "check-l4.yml:2:5 listeners[0].routes: is required";
    const runs: L4Runs[] = [
      l4Runs(8, { direct: [l4(20e9)], haproxy: [l4(10e9)] }, { "aegis l4": why }),
      { ...l4Runs(10, {}), skipped: "iperf3 not installed" },
    ];
    const checks = renderL4Checks(runs);
    assert.match(
      checks,
      new RegExp(
        `\\*\\*n/a\\*\\* scenario 8, .*: aegis l4 not available: ${
          escape(why)
        }; haproxy 10\\.00 Gbit/s`,
      ),
    );
    assert.match(checks, /\*\*n\/a\*\* scenario 10, .*: not run \(iperf3 not installed\)/);
    const table = renderL4Table(runs);
    assert.match(
      table,
      new RegExp(`\\| 8 \\| TCP bulk \\| aegis l4 \\| not available: ${escape(why)} \\|`),
    );
    assert.match(table, /\| 10 \| UDP \| — \| not run: iperf3 not installed \|/);
  },
);

/** `text` as a literal inside a RegExp. */
function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
