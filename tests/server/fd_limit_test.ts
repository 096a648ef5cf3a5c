import assert from "node:assert/strict";
import {
  ADMIN_MAX_CONNECTIONS,
  deriveMaxConnections,
  FALLBACK_DESCRIPTOR_LIMIT,
  METRICS_MAX_CONNECTIONS,
  parseOpenFilesLimit,
  PROCESS_RESERVE,
  readDescriptorLimit,
  UNLIMITED_DESCRIPTORS,
} from "../../src/server/fd_limit.ts";

const none = { permissions: "none" } as const;

/** `/proc/self/limits` as Linux writes it. */
function limits(soft: string, hard: string): string {
  return [
    "Limit                     Soft Limit           Hard Limit           Units     ",
    "Max cpu time              unlimited            unlimited            seconds   ",
    `Max open files            ${soft.padEnd(21)}${hard.padEnd(21)}files     `,
    "Max locked memory         8388608              8388608              bytes     ",
  ].join("\n") + "\n";
}

Deno.test("parseOpenFilesLimit() reads the soft limit of Max open files", none, () => {
  assert.equal(parseOpenFilesLimit(limits("20000", "1048576")), 20_000);
  assert.equal(parseOpenFilesLimit(limits("unlimited", "unlimited")), UNLIMITED_DESCRIPTORS);
  assert.equal(parseOpenFilesLimit("Max cpu time unlimited unlimited seconds\n"), undefined);
  assert.equal(parseOpenFilesLimit(limits("lots", "lots")), undefined);
});

Deno.test(
  "readDescriptorLimit() falls back to a documented number when /proc cannot be read",
  none,
  () => {
    assert.deepEqual(readDescriptorLimit(() => limits("4096", "4096")), {
      limit: 4096,
      source: "proc",
    });
    const denied = () => {
      throw new Deno.errors.NotCapable("read access to /proc/self/limits");
    };
    assert.deepEqual(readDescriptorLimit(denied), {
      limit: FALLBACK_DESCRIPTOR_LIMIT,
      source: "fallback",
    });
    assert.deepEqual(readDescriptorLimit(() => ""), {
      limit: FALLBACK_DESCRIPTOR_LIMIT,
      source: "fallback",
    });
  },
);

Deno.test(
  "readDescriptorLimit() falls back under Aegis's permissions: the runtime guards /proc/self",
  { permissions: { read: true }, ignore: Deno.build.os !== "linux" },
  () => {
    // If a runtime upgrade lets --allow-read see /proc/self/limits, this
    // fails: the fallback is then no longer the usual case (update the docs).
    assert.throws(() => Deno.readTextFileSync("/proc/self/limits"), Deno.errors.NotCapable);
    assert.deepEqual(readDescriptorLimit(), {
      limit: FALLBACK_DESCRIPTOR_LIMIT,
      source: "fallback",
    });
  },
);

Deno.test(
  "deriveMaxConnections() keeps a reserve for backend pools, health checks, admin, metrics and the process",
  none,
  async (t) => {
    await t.step("plenty of descriptors: every pool's ceiling is reserved", () => {
      const d = deriveMaxConnections({
        descriptorLimit: 20_000,
        backends: 3,
        upstreamMaxConnections: 512,
      });
      assert.equal(d.fixedReserve, PROCESS_RESERVE + ADMIN_MAX_CONNECTIONS + 3);
      assert.equal(d.upstreamReserve, 3 * 512);
      assert.equal(d.maxConnections, 20_000 - d.fixedReserve - 3 * 512);
    });
    await t.step("with the metrics listener: its connections are reserved too", () => {
      const d = deriveMaxConnections({
        descriptorLimit: 20_000,
        backends: 3,
        upstreamMaxConnections: 512,
        metricsListener: true,
      });
      assert.equal(
        d.fixedReserve,
        PROCESS_RESERVE + ADMIN_MAX_CONNECTIONS + METRICS_MAX_CONNECTIONS + 3,
      );
      assert.equal(d.maxConnections, 20_000 - d.fixedReserve - 3 * 512);
    });
    await t.step("pools larger than half the rest: half is reserved for them", () => {
      const d = deriveMaxConnections({
        descriptorLimit: 1024,
        backends: 3,
        upstreamMaxConnections: 512,
      });
      const available = 1024 - d.fixedReserve;
      assert.equal(d.upstreamReserve, Math.floor(available / 2));
      assert.equal(d.maxConnections, available - d.upstreamReserve);
      assert.ok(d.maxConnections + d.upstreamReserve + d.fixedReserve <= 1024);
    });
    await t.step("a tiny limit still admits one client", () => {
      const d = deriveMaxConnections({
        descriptorLimit: 64,
        backends: 2,
        upstreamMaxConnections: 1,
      });
      assert.equal(d.maxConnections, 1);
    });
  },
);
