/**
 * Large configuration texts for the tests of the loader's limits: many
 * aliases, many keys, all under the 1 MiB file limit.
 *
 * @module
 */

/**
 * A valid configuration with `n` backends whose weights are all one alias
 * (`weight: *w`): `n` aliases in about 44 bytes each. Backends are one
 * public address with distinct paths, so no DNS lookup is needed.
 */
export function backendAliasesYaml(n: number): string {
  const lines = ["backends:", "  - {url: http://93.184.216.34/0, weight: &w 3}"];
  for (let i = 1; i < n; i++) {
    lines.push(`  - {url: http://93.184.216.34/${i.toString(36)}, weight: *w}`);
  }
  return lines.join("\n") + "\n";
}

/**
 * A valid configuration for loopback `backend` whose `security.allowed_methods`
 * lists `GET` through `n` aliases, 4 bytes each: a large file that parses
 * slowly enough to watch and changes nothing that matters when applied.
 */
export function methodAliasesYaml(backend: string, n: number): string {
  return [
    "server: {host: 127.0.0.1, port: 0}",
    `backends: [{url: "${backend}", weight: 1}]`,
    "development: {allow_loopback_backends: true}",
    'admin: {address: "127.0.0.1:0"}',
    `security: {allowed_methods: [&m GET, ${Array(n).fill("*m").join(", ")}]}`,
  ].join("\n") + "\n";
}

/** A configuration whose `server` section has `n` distinct keys it does not know. */
export function unknownKeysYaml(n: number): string {
  const keys = Array.from({ length: n }, (_, i) => `  k${i.toString(36)}: 1`);
  return ["backends: [{url: http://93.184.216.34, weight: 1}]", "server:", ...keys].join("\n") +
    "\n";
}
