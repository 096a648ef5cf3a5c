/**
 * The L4 scenarios' parts of the load benchmark, without iperf3, HAProxy or
 * nginx: iperf3 report parsing (canned iperf3 3.12 reports in `testdata/`),
 * the peers' and Aegis's L4 configurations, readiness probing, and the
 * verdicts of the report.
 *
 * @module
 */

import assert from "node:assert/strict";
import { iperfArgs, parseIperf } from "./_iperf.ts";

const testdata = (name: string) =>
  Deno.readTextFile(new URL(`./testdata/${name}`, import.meta.url));

Deno.test("bench: iperf3 reports are read from the receiving side, failures are errors", async (t) => {
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
