/**
 * One pass over a parsed YAML document, in document order, that does in
 * linear time what `npm:yaml` does in quadratic time, and what it leaves
 * undone:
 *
 * - **Aliases.** `Alias.resolve(doc)` walks the whole document for every
 *   alias it resolves (2.9.1, `nodes/Alias.js`), so 20,000 aliases cost
 *   20,000 walks. Here each anchor is recorded as the walk meets it, and an
 *   alias takes the latest anchor of its name seen before it: the same rule
 *   ("the last instance of the anchor before this node", in the order of
 *   `visit`), found once.
 * - **Duplicate keys.** With `uniqueKeys: true` the composer compares each new
 *   key with every earlier key of the mapping (`compose/util-map-includes.js`);
 *   900,000 keys froze the process for minutes. Here each mapping keeps a
 *   `Set` of its scalar keys, under the same equality (scalar values compared
 *   with `===`, other keys never equal).
 * - **Alias expansion.** `maxAliasCount` only guards `toJS()`, which Aegis
 *   never calls; the schema decoder follows aliases itself. The walk counts
 *   how many nodes the aliases stand for and stops past a limit.
 *
 * The walk is iterative, so a deeply nested document cannot overflow the
 * stack here.
 *
 * @module
 */

import { type Alias, isAlias, isMap, isPair, isScalar, isSeq, type Node } from "yaml";

/** How many nodes all aliases together may stand for, beyond the file's own nodes. */
export const MAX_ALIAS_NODES = 1_000_000;

/** What the scan learned: where each alias points. */
export interface DocumentScan {
  /** The node each resolvable alias stands for. */
  readonly targets: ReadonlyMap<Alias, Node>;
  /** Nodes in the file itself (an alias counts as one). */
  readonly nodes: number;
  /** Nodes the aliases add when followed. */
  readonly aliasNodes: number;
}

/** Receives a problem at a source offset. */
export type ProblemSink = (offset: number, message: string) => void;

interface Frame {
  readonly node: Node;
  readonly children: ReadonlyArray<Node | null>;
  next: number;
  /** Nodes under this one with aliases followed, itself included. */
  size: number;
}

/**
 * Scans `root` (a document's contents), reporting duplicate keys, aliases
 * without an anchor, recursive aliases and excessive alias expansion to
 * `problem`. Linear in the number of nodes.
 *
 * @example
 * ```ts
 * const doc = parseDocument("a: &x 1\nb: *x\n", { uniqueKeys: false });
 * const scan = scanDocument(doc.contents, (at, msg) => console.log(at, msg));
 * scan.targets.size; // 1
 * ```
 */
export function scanDocument(root: Node | null, problem: ProblemSink): DocumentScan {
  const targets = new Map<Alias, Node>();
  const anchors = new Map<string, Node>();
  // Anchored nodes still being walked: an alias to one of them is recursive.
  const open = new Set<Node>();
  // The expanded size of every finished anchored node, for the aliases after it.
  const sizes = new Map<Node, number>();
  const stack: Frame[] = [];
  let nodes = 0;
  let aliasNodes = 0;

  /** Visits `node` on the way down; returns its size if it has no children. */
  const enter = (node: Node): number | undefined => {
    nodes++;
    if (isAlias(node)) {
      const target = anchors.get(node.source);
      if (target === undefined) {
        problem(offsetOf(node), `alias *${node.source} has no anchor &${node.source} before it`);
        return 1;
      }
      if (open.has(target)) {
        problem(offsetOf(node), `alias *${node.source} refers to a node that contains it`);
        return 1;
      }
      targets.set(node, target);
      return sizes.get(target) ?? 1;
    }
    if (node.anchor) {
      anchors.set(node.anchor, node);
      open.add(node);
    }
    if (isMap(node)) {
      checkUniqueKeys(node.items, problem);
      stack.push({
        node,
        children: node.items.flatMap((p) => [asNode(p.key), asNode(p.value)]),
        next: 0,
        size: 1,
      });
      return undefined;
    }
    if (isSeq(node)) {
      const children = node.items.flatMap((i) =>
        isPair(i) ? [asNode(i.key), asNode(i.value)] : [asNode(i)]
      );
      stack.push({ node, children, next: 0, size: 1 });
      return undefined;
    }
    return leave(node, 1);
  };
  const leave = (node: Node, size: number): number => {
    if (node.anchor) {
      open.delete(node);
      sizes.set(node, size);
    }
    return size;
  };

  if (root !== null) enter(root);
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    if (top.next === top.children.length) {
      stack.pop();
      const size = leave(top.node, top.size);
      if (stack.length > 0) stack[stack.length - 1]!.size += size;
      continue;
    }
    const child = top.children[top.next++];
    if (child === null || child === undefined) continue;
    const size = enter(child);
    if (size === undefined) continue;
    top.size += size;
    if (isAlias(child)) {
      aliasNodes += size - 1;
      // [SECURITY] Alias bombs ("billion laughs"): a few lines of nested
      // aliases can stand for billions of nodes. Past the limit the scan stops
      // and the file is refused before anything follows those aliases.
      if (aliasNodes > MAX_ALIAS_NODES) {
        problem(
          offsetOf(child),
          `aliases stand for more than ${MAX_ALIAS_NODES} nodes; an alias bomb? Write the values out instead`,
        );
        break;
      }
    }
  }
  return { targets, nodes, aliasNodes };
}

/** `value` as a node, or `null` for an absent key or value. */
function asNode(value: unknown): Node | null {
  return value !== null && typeof value === "object" ? value as Node : null;
}

function offsetOf(node: Node): number {
  return node.range?.[0] ?? 0;
}

// [SECURITY] Denial of service through the duplicate-key check: one Set per
// mapping keeps it linear (the library's check compares every pair of keys).
// Duplicate keys stay errors: which of two values wins is a guess the user
// should not have to make.
function checkUniqueKeys(items: ReadonlyArray<{ key: unknown }>, problem: ProblemSink): void {
  if (items.length < 2) return;
  const seen = new Set<unknown>();
  for (const { key } of items) {
    if (!isScalar(key)) continue;
    const value = key.value;
    // Set equality is SameValueZero; the library compares with ===, under
    // which NaN is never equal to itself.
    if (typeof value === "number" && Number.isNaN(value)) continue;
    if (seen.has(value)) problem(offsetOf(key), "Map keys must be unique");
    else seen.add(value);
  }
}
