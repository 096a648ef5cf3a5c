import assert from "node:assert/strict";
import { type Alias, LineCounter, parseDocument, visit } from "yaml";
import { MAX_ALIAS_NODES, scanDocument } from "../../src/config/scan.ts";

/** npm:yaml reads these to decide whether to trace. */
const PARSE: { permissions: Deno.PermissionOptionsObject } = {
  permissions: { env: ["LOG_TOKENS", "LOG_STREAM"] },
};

/** Parses like the loader does and scans, collecting problems as `line:col message`. */
function scan(text: string) {
  const doc = parseDocument(text, { uniqueKeys: false, prettyErrors: false });
  assert.deepEqual(doc.errors, []);
  const problems: string[] = [];
  const lineOf = (offset: number) => {
    const before = text.slice(0, offset).split("\n");
    return `${before.length}:${before[before.length - 1]!.length + 1}`;
  };
  const result = scanDocument(
    doc.contents,
    (at, message) => problems.push(`${lineOf(at)} ${message}`),
  );
  return { doc, problems, ...result };
}

function aliasesOf(doc: ReturnType<typeof parseDocument>): Alias[] {
  const out: Alias[] = [];
  visit(doc, { Alias: (_, node) => void out.push(node) });
  return out;
}

Deno.test(
  "scanDocument() visits each node once, however many aliases point at one anchor",
  PARSE,
  () => {
    // 20,000 aliases: npm:yaml's Alias.resolve walks the whole document for
    // each, 20,000 walks of 40,000 nodes; the scan makes one walk.
    const n = 20_000;
    const items = ["- &w 1", ...Array.from({ length: n }, () => "- *w")];
    const { problems, targets, nodes, aliasNodes } = scan(items.join("\n") + "\n");
    assert.deepEqual(problems, []);
    assert.equal(nodes, n + 2, "the list, the anchored scalar and each alias, once");
    assert.equal(targets.size, n);
    assert.equal(aliasNodes, 0, "an alias to a scalar adds nothing");
  },
);

Deno.test(
  "scanDocument() resolves every alias to the node npm:yaml's own resolve finds",
  PARSE,
  () => {
    const { doc, targets, problems } = scan([
      "a: &x 1",
      "b: *x",
      "c: [2, *x]",
      "d: {z: *x}",
      "e: &x 3",
      "f: {k: &y v, l: *y, m: *x}",
    ].join("\n"));
    assert.deepEqual(problems, []);
    const aliases = aliasesOf(doc);
    assert.equal(aliases.length, 5);
    for (const alias of aliases) {
      assert.equal(targets.get(alias), alias.resolve(doc), `*${alias.source}`);
    }
  },
);

Deno.test(
  "scanDocument() reports the duplicate keys npm:yaml's own check reports, at the same places",
  PARSE,
  async (t) => {
    const cases: Record<string, string> = {
      "in a block mapping": "a: 1\nb: 2\na: 3\n",
      "every copy after the first, in a nested flow mapping": "s:\n  t: {k: 1, k: 2, k: 3}\n",
      "equal values written differently (1 and 0x1)": "1: a\n0x1: b\n",
      "a key with an anchor or a tag": "? &k a\n: 1\n&j a: 2\n!!str a: 3\n",
      "a number and a string that look alike are different keys": '1: a\n"1": b\n',
      "the same key in two mappings is no duplicate": "a: {k: 1}\nb: {k: 2}\n",
      "null keys": "? \n: 1\n~: 2\n",
      "single-pair mappings in a flow list": "[k: 1, k: 2]\n",
    };
    for (const [name, text] of Object.entries(cases)) {
      await t.step(name, () => {
        const lines = new LineCounter();
        const library = parseDocument(text, { lineCounter: lines, prettyErrors: false })
          .errors.map((e) => {
            const { line, col } = lines.linePos(e.pos[0]);
            return `${line}:${col} ${e.message}`;
          });
        assert.deepEqual(scan(text).problems, library);
      });
    }
  },
);

Deno.test(
  "scanDocument() finds the one duplicate among 100,000 keys of a mapping",
  PARSE,
  () => {
    const keys = Array.from({ length: 100_000 }, (_, i) => `k${i}: 1`);
    assert.deepEqual(scan([...keys, "k7: 2"].join("\n")).problems, [
      "100001:1 Map keys must be unique",
    ]);
  },
);

Deno.test("scanDocument() reports aliases it cannot follow", PARSE, async (t) => {
  await t.step("an alias with no anchor of its name before it", () => {
    assert.deepEqual(scan("a: *x\nb: &x 1\n").problems, [
      "1:4 alias *x has no anchor &x before it",
    ]);
  });
  await t.step("an alias inside the node its anchor names", () => {
    assert.deepEqual(scan("a: &x [1, *x]\n").problems, [
      "1:11 alias *x refers to a node that contains it",
    ]);
  });
});

Deno.test(
  "scanDocument() stops at an alias bomb before anything follows its aliases",
  PARSE,
  () => {
    // Nine levels of ten: a billion nodes from a dozen lines.
    const lines = ["a: &a [x, x, x, x, x, x, x, x, x, x]"];
    for (let level = 1; level < 9; level++) {
      const prev = String.fromCharCode(96 + level);
      const name = String.fromCharCode(97 + level);
      lines.push(`${name}: &${name} [${Array(10).fill(`*${prev}`).join(", ")}]`);
    }
    const { problems, aliasNodes } = scan(lines.join("\n"));
    assert.equal(problems.length, 1);
    assert.match(problems[0]!, /^6:\d+ aliases stand for more than 1000000 nodes; an alias bomb\?/);
    assert.ok(aliasNodes > MAX_ALIAS_NODES);
  },
);

Deno.test("scanDocument() accepts aliases that stand for up to the limit", PARSE, () => {
  // A 1,000-node list used 999 times: 999,000 nodes more, under 1,000,000.
  const list = `[${Array(999).fill("x").join(", ")}]`;
  const { problems, aliasNodes } = scan(
    `a: &a ${list}\nb: [${Array(999).fill("*a").join(", ")}]\n`,
  );
  assert.deepEqual(problems, []);
  assert.equal(aliasNodes, 999 * 999);
});
