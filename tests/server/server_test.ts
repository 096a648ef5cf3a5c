import assert from "node:assert/strict";
import { clientFromAddr } from "../../src/server/mod.ts";

const none = { permissions: "none" } as const;

Deno.test(
  "clientFromAddr() gives the socket peer and the port of the listener that accepted it",
  none,
  async (t) => {
    await t.step("IPv4", () => {
      assert.deepEqual(
        clientFromAddr({ transport: "tcp", hostname: "203.0.113.9", port: 5000 }, 8080),
        { ip: "203.0.113.9", port: 5000, proto: "http", listenerPort: 8080 },
      );
    });
    await t.step("IPv4-mapped IPv6 shows as IPv4", () => {
      assert.equal(
        clientFromAddr({ transport: "tcp", hostname: "::ffff:203.0.113.9", port: 5000 }, 8080).ip,
        "203.0.113.9",
      );
    });
  },
);
