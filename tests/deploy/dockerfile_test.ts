/**
 * `deploy/Dockerfile`, read instruction by instruction: no container
 * engine runs here, so what a build would copy, compile and run is checked
 * against the repository, the compile task, the compose file and
 * `deploy/aegis.yml`.
 */

import assert from "node:assert/strict";
import { ROOT } from "../_helpers/cli.ts";
import { composeConfig, composeFile, deployPath, listenAddresses, portOf } from "./_deploy.ts";

/** One instruction: its keyword and the rest of its line, continuations joined. */
interface Instruction {
  readonly keyword: string;
  readonly args: string;
}

/** A build stage: its base image, its name, and its instructions after `FROM`. */
interface Stage {
  readonly from: string;
  readonly name: string;
  readonly instructions: readonly Instruction[];
}

const text = await Deno.readTextFile(deployPath("Dockerfile"));

function instructions(dockerfile: string): Instruction[] {
  return dockerfile
    .replace(/\\\n/g, " ")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("#"))
    .map((l) => {
      const [keyword, ...rest] = l.split(/\s+/);
      return { keyword: keyword!.toUpperCase(), args: rest.join(" ") };
    });
}

function stages(all: readonly Instruction[]): Stage[] {
  const out: Array<{ from: string; name: string; instructions: Instruction[] }> = [];
  for (const i of all) {
    if (i.keyword === "FROM") {
      const [from, as, name] = i.args.split(" ");
      assert.equal(as?.toUpperCase(), "AS", `every stage is named: FROM ${i.args}`);
      out.push({ from: from!, name: name!, instructions: [] });
    } else out.at(-1)?.instructions.push(i);
  }
  return out;
}

const all = instructions(text);
const byName = new Map(stages(all).map((s) => [s.name, s]));
const args = (stage: string, keyword: string) =>
  byName.get(stage)!.instructions.filter((i) => i.keyword === keyword).map((i) => i.args);

Deno.test("the stages: a builder, the demo backend and Aegis last, so a plain build makes Aegis", () => {
  assert.deepEqual([...byName.keys()], ["build", "build-demo", "demo-backend", "aegis"]);
});

Deno.test("the builder is the Deno that CI installs, and runs the compile task", async () => {
  const ci = await Deno.readTextFile(`${ROOT}.ci/run`);
  const version = /^DENO_VERSION="([^"]+)"$/m.exec(ci)![1];
  assert.ok(all.some((i) => i.keyword === "ARG" && i.args === `DENO_VERSION=${version}`));
  assert.equal(byName.get("build")!.from, "denoland/deno:${DENO_VERSION}");
  assert.deepEqual(args("build", "RUN"), ["deno task compile"]);
  const meta = JSON.parse(await Deno.readTextFile(`${ROOT}deno.json`));
  assert.match(meta.tasks.compile, /--output aegis src\/main\.ts$/);
  assert.deepEqual(args("aegis", "COPY"), ["--from=build /build/aegis /usr/local/bin/aegis"]);
});

Deno.test("every COPY from the build context names a path that exists and the ignore file keeps", async () => {
  const ignore = (await Deno.readTextFile(deployPath("Dockerfile.dockerignore")))
    .split("\n").filter((l) => l !== "" && !l.startsWith("#"));
  assert.equal(ignore[0], "*", "an allow-list: everything else stays out of the context");
  const kept = ignore.slice(1).map((l) => l.replace(/^!/, "").replace(/\/$/, ""));
  const copies = all.filter((i) => i.keyword === "COPY" && !i.args.startsWith("--from="));
  assert.ok(copies.length >= 2);
  for (const copy of copies) {
    const sources = copy.args.split(" ").slice(0, -1);
    for (const source of sources) {
      await Deno.stat(`${ROOT}${source}`).catch(() => assert.fail(`COPY ${source}: missing`));
      assert.ok(kept.includes(source.replace(/\/$/, "")), `${source} is in the context`);
    }
  }
  for (const copy of all.filter((i) => i.keyword === "COPY" && i.args.startsWith("--from="))) {
    const stage = /^--from=(\S+)/.exec(copy.args)![1]!;
    assert.ok(byName.has(stage), `COPY --from=${stage}`);
  }
});

Deno.test("the demo backend is src/demo/serve.ts, allowed to listen and nothing more", async () => {
  const [compile] = args("build-demo", "RUN");
  assert.equal(
    compile,
    "deno compile --no-prompt --allow-net=0.0.0.0 --output aegis-demo-backend src/demo/serve.ts",
  );
  await Deno.stat(`${ROOT}src/demo/serve.ts`);
  assert.deepEqual(args("demo-backend", "ENTRYPOINT"), ['["/usr/local/bin/aegis-demo-backend"]']);
});

Deno.test("both images run as a non-root user on distroless", () => {
  for (const name of ["aegis", "demo-backend"]) {
    assert.equal(byName.get(name)!.from, "gcr.io/distroless/cc-debian12:nonroot", name);
    assert.deepEqual(args(name, "USER"), ["nonroot"], name);
  }
});

Deno.test("the Aegis image exposes deploy/aegis.yml's ports and runs the mounted config headless", async () => {
  const config = await composeConfig();
  const ports = listenAddresses(config).map(portOf);
  assert.deepEqual(args("aegis", "EXPOSE"), [ports.join(" ")]);
  assert.deepEqual(args("aegis", "ENTRYPOINT"), ['["/usr/local/bin/aegis"]']);
  const cmd = JSON.parse(args("aegis", "CMD")[0]!);
  assert.deepEqual(cmd, ["--headless", "--config", "/etc/aegis/aegis.yml"]);
  const { services } = await composeFile();
  assert.deepEqual(services.aegis!.command, cmd, "compose says the same");
});
