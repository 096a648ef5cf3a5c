/**
 * The resolved configuration: always the expanded form, every listener and
 * pool with every field present (inherited values filled in). This is what
 * the code reads (listeners and pools, never the top-level defaults), what
 * a reload compares, and what `aegis check` prints; a flat file and the
 * expanded file it stands for resolve to the same value.
 *
 * @module
 */

import { backendNetworksField } from "./fields_front.ts";
import { processSections, serverProcessSection } from "./fields.ts";
import { listenersField, poolsField } from "./fields_topology.ts";
import { type Infer, section } from "./schema.ts";

/** The schema of the resolved configuration: its type, and how it prints. */
export const resolvedSchema = section("Aegis configuration, resolved", {
  server: serverProcessSection,
  listeners: listenersField,
  pools: poolsField,
  security: section("The SSRF policy", { allowed_backend_networks: backendNetworksField }),
  ...processSections,
});

/** The resolved configuration: every field present, durations in milliseconds. */
export type Config = Infer<typeof resolvedSchema>;

/** One front door: its address, limits, rate limit, filters and routes. */
export type ListenerConfig = Config["listeners"][number];

/** One route of a listener. */
export type RouteConfig = NonNullable<ListenerConfig["routes"]>[number];

/** One backend group: its backends and their settings. */
export type PoolConfig = Config["pools"][string];

/** The `tracing` section. */
export type TracingConfig = Config["tracing"];

/** One backend entry of a pool. */
export type BackendConfig = PoolConfig["backends"][number];
