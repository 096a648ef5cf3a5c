/**
 * `deno task demo`: three demo backends on ports 8081–8083 and Aegis in
 * front of them on 8080, configured by `aegis.yml`. Arguments are passed to
 * the `aegis` command line. Ctrl+C stops everything.
 *
 * @module
 */

import { main } from "../main.ts";
import { type DemoBackend, startDemoBackend } from "./backends.ts";

const PORTS = [8081, 8082, 8083];

if (import.meta.main) {
  let backends: DemoBackend[];
  try {
    backends = PORTS.map((port, i) => startDemoBackend(`backend-${i + 1}`, port));
  } catch (e) {
    const why = e instanceof Deno.errors.AddrInUse ? "a port is already in use" : String(e);
    console.error(`demo: cannot start the demo backends on ports ${PORTS.join(", ")}: ${why}`);
    Deno.exit(1);
  }
  console.error(
    `demo: backends on ${backends.map((b) => b.url).join(", ")}; try: curl http://localhost:8080/`,
  );
  const code = await main(Deno.args);
  await Promise.all(backends.map((b) => b.close()));
  Deno.exit(code);
}
