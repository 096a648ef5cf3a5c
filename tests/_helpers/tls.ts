/**
 * A throwaway certificate authority for TLS tests, made with the real
 * `openssl` in a temporary directory: a CA, and leaf certificates for the
 * names and lifetimes a test asks for. Plus the real clients (`curl`,
 * `openssl s_client`) run against a listener.
 *
 * @module
 */

/** A certificate and key on disk. */
export interface IssuedFiles {
  readonly certFile: string;
  readonly keyFile: string;
}

/** A CA in a temporary directory; disposing removes it. */
export interface TestPki extends AsyncDisposable {
  readonly dir: string;
  /** The CA certificate, PEM file: what clients trust. */
  readonly caFile: string;
  /**
   * Issues a certificate for `names` (the first is also the subject's CN),
   * valid for `days` from now (negative: already expired), under `file`
   * (`<file>.pem`, `<file>.key`).
   */
  issue(file: string, names: readonly string[], days?: number): Promise<IssuedFiles>;
}

/** Runs a command; resolves with its output, rejects with stderr on failure. */
export async function run(cmd: string, args: readonly string[], stdin?: string): Promise<string> {
  const child = new Deno.Command(cmd, {
    args: [...args],
    stdin: stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (stdin !== undefined) {
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(stdin));
    await w.close();
  }
  const out = await child.output();
  const text = new TextDecoder().decode(out.stdout);
  if (!out.success) {
    throw new Error(`${cmd} ${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`);
  }
  return text;
}

const EC = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];

/** Creates a CA in a fresh temporary directory. */
export async function createPki(): Promise<TestPki> {
  const dir = await Deno.makeTempDir({ prefix: "aegis-tls-" });
  const caFile = `${dir}/ca.pem`;
  const caKey = `${dir}/ca.key`;
  await run("openssl", [
    "req",
    "-x509",
    ...EC,
    "-keyout",
    caKey,
    "-out",
    caFile,
    "-days",
    "30",
    "-subj",
    "/CN=Aegis Test CA",
  ]);
  let serial = 1;
  return {
    dir,
    caFile,
    async issue(file, names, days = 30) {
      const base = `${dir}/${file}`;
      const san = names.map((n) => /^[\d.]+$/.test(n) ? `IP:${n}` : `DNS:${n}`).join(",");
      await Deno.writeTextFile(`${base}.ext`, `subjectAltName=${san}\n`);
      await run("openssl", [
        "req",
        ...EC,
        "-keyout",
        `${base}.key`,
        "-out",
        `${base}.csr`,
        "-subj",
        `/CN=${names[0]}`,
      ]);
      await run("openssl", [
        "x509",
        "-req",
        "-in",
        `${base}.csr`,
        "-CA",
        caFile,
        "-CAkey",
        caKey,
        "-set_serial",
        String(serial++),
        "-out",
        `${base}.pem`,
        "-days",
        String(days),
        "-extfile",
        `${base}.ext`,
      ]);
      return { certFile: `${base}.pem`, keyFile: `${base}.key` };
    },
    [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }),
  };
}

/** What `openssl s_client` saw: the server certificate's subject and the ALPN protocol. */
export async function handshake(
  port: number,
  options: { serverName?: string; alpn?: string; caFile: string },
): Promise<{ subject: string; alpn: string; verified: boolean }> {
  const args = ["s_client", "-connect", `127.0.0.1:${port}`, "-CAfile", options.caFile];
  if (options.serverName) args.push("-servername", options.serverName);
  else args.push("-noservername");
  if (options.alpn) args.push("-alpn", options.alpn);
  const out = await run("openssl", args, "");
  return {
    subject: /^subject=(.*)$/m.exec(out)?.[1]?.trim() ?? "",
    alpn: /^ALPN protocol: (.*)$/m.exec(out)?.[1]?.trim() ?? "",
    verified: /Verify return code: 0 \(ok\)/.test(out),
  };
}

/** A request with the real `curl`; `--resolve` points `host` at the loopback port. */
export async function curl(
  url: string,
  options: { caFile?: string; args?: readonly string[] } = {},
): Promise<{ status: number; version: string; body: string }> {
  const args = ["-sS", "--max-time", "10", "-w", "\n%{http_code} %{http_version}"];
  if (options.caFile) args.push("--cacert", options.caFile);
  const out = await run("curl", [...args, ...(options.args ?? []), url]);
  const cut = out.lastIndexOf("\n");
  const [status, version] = out.slice(cut + 1).split(" ");
  return { status: Number(status), version: version ?? "", body: out.slice(0, cut) };
}

/** A `Deno.serve` backend over TLS on 127.0.0.1 and an ephemeral port. */
export interface TlsBackend extends AsyncDisposable {
  /** `https://127.0.0.1:port`. */
  readonly url: string;
  readonly port: number;
  /** Requests received, except Aegis's health probes. */
  readonly received: number;
  /** Health probes received (`User-Agent: aegis-health-check`). */
  readonly probes: number;
  /** The client port of every request: one per TLS connection Aegis opened. */
  readonly peerPorts: ReadonlySet<number>;
}

/** Starts a TLS backend serving `files`; by default it answers `200 ok`. */
export function startTlsBackend(
  files: IssuedFiles,
  handler: (request: Request) => Response | Promise<Response> = () => new Response("ok"),
): TlsBackend {
  let received = 0;
  let probes = 0;
  const peerPorts = new Set<number>();
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    cert: Deno.readTextFileSync(files.certFile),
    key: Deno.readTextFileSync(files.keyFile),
    onListen() {},
    // A client that refuses the certificate ends the handshake: not the test's error.
    onError: () => new Response("error", { status: 500 }),
  }, (request, info) => {
    peerPorts.add(info.remoteAddr.port);
    if (request.headers.get("user-agent") === "aegis-health-check") {
      probes++;
      return new Response("healthy");
    }
    received++;
    return handler(request);
  });
  return {
    url: `https://127.0.0.1:${server.addr.port}`,
    port: server.addr.port,
    get received() {
      return received;
    },
    get probes() {
      return probes;
    },
    peerPorts,
    [Symbol.asyncDispose]: () => server.shutdown(),
  };
}
