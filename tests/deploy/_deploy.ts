/**
 * The deploy/ files, for the tests that check them: where they are, and
 * `deploy/aegis.yml` loaded as Aegis inside docker compose would load it.
 *
 * @module
 */

import { parse } from "yaml";
import { type Config, formatDiagnostic, loadConfigFile } from "../../src/config/mod.ts";
import { ROOT } from "../_helpers/cli.ts";
import { fakeResolver } from "../_helpers/config.ts";

/** The absolute path of `relative` under `deploy/`. */
export function deployPath(relative: string): string {
  return `${ROOT}deploy/${relative}`;
}

/**
 * Addresses Docker's DNS could give the demo backends on the compose
 * network (`172.28.17.0/24` in `deploy/docker-compose.yml`).
 */
export const COMPOSE_HOSTS: Readonly<Record<string, string>> = {
  "backend-1": "172.28.17.11",
  "backend-2": "172.28.17.12",
  "backend-3": "172.28.17.13",
};

/** `deploy/aegis.yml`, its backends' names resolved as on the compose network. */
export async function composeConfig(): Promise<Config> {
  const path = deployPath("aegis.yml");
  const table = Object.fromEntries(Object.entries(COMPOSE_HOSTS).map(([h, a]) => [h, [a]]));
  const result = await loadConfigFile(path, { resolver: fakeResolver(table) });
  if (!result.ok) {
    throw new Error(result.diagnostics.map((d) => formatDiagnostic(path, d)).join("\n"));
  }
  return result.config;
}

/** Every address `config` listens on: its listeners', the admin API's and the metrics listener's. */
export function listenAddresses(config: Config): string[] {
  return [
    ...config.listeners.map((l) => l.address),
    config.admin.address,
    config.admin.metrics_address,
  ];
}

/** A service of `deploy/docker-compose.yml`, as far as the tests read it. */
export interface ComposeService {
  readonly image?: string;
  readonly build?: {
    readonly context: string;
    readonly dockerfile: string;
    readonly target: string;
  };
  readonly command?: readonly string[];
  readonly volumes?: readonly string[];
  readonly ports?: readonly string[];
  readonly depends_on?: readonly string[];
  readonly stop_grace_period?: string;
  readonly networks?: readonly string[];
}

/** `deploy/docker-compose.yml`, parsed. */
export async function composeFile(): Promise<{
  readonly services: Readonly<Record<string, ComposeService>>;
  readonly networks: Readonly<Record<string, { ipam: { config: Array<{ subnet: string }> } }>>;
}> {
  return parse(await Deno.readTextFile(deployPath("docker-compose.yml")));
}

/** The port of a `host:port` address. */
export function portOf(address: string): number {
  return Number(address.slice(address.lastIndexOf(":") + 1));
}
