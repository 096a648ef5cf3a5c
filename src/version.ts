/**
 * The Aegis version, read from `deno.json` so there is one place to bump it.
 *
 * @module
 */

import meta from "../deno.json" with { type: "json" };

/** The running Aegis version. */
export const VERSION: string = meta.version;
