/**
 * The state of one decoding pass over `aegis.yml`: the problems found so far
 * (bounded), where each path was written, every value that decoded, and
 * where each alias points.
 *
 * @module
 */

import type { Alias, LineCounter, Node } from "yaml";

/** One configuration problem, positioned when the file says where. */
export interface Diagnostic {
  /** Dotted path into the configuration, such as `backends[1].url`. */
  readonly path: string;
  /** What is wrong, in words a user can act on. */
  readonly message: string;
  /** 1-based line, when known. */
  readonly line?: number;
  /** 1-based column, when known. */
  readonly col?: number;
}

/** A source position. */
export interface Position {
  readonly line: number;
  readonly col: number;
}

/** How many problems are kept and shown; the rest are only counted. */
export const MAX_DIAGNOSTICS = 100;

/** Collects diagnostics and remembers where each decoded path was written. */
export class Decoder {
  /** The first {@linkcode MAX_DIAGNOSTICS} problems found, in order of discovery. */
  readonly diagnostics: Diagnostic[] = [];
  /** Where each path that appeared in the file starts. */
  readonly positions: Map<string, Position> = new Map();
  /**
   * Every value that decoded cleanly, by path, even inside sections that
   * failed elsewhere: cross-field checks read these so that one broken field
   * does not hide the problems of its neighbours.
   */
  readonly values: Map<string, unknown> = new Map();
  /** Problems found beyond {@linkcode MAX_DIAGNOSTICS}, counted but not kept. */
  omitted = 0;
  /**
   * Things that work but are probably not what was meant (a pool no route
   * uses), at most {@linkcode MAX_DIAGNOSTICS}; they never make a file invalid.
   */
  readonly warnings: Diagnostic[] = [];
  /**
   * Every key the file wrote, as a path (`server.port`): a field left out is
   * not here even though its default is in {@linkcode values}, which is how
   * "written" is told from "defaulted" (mixing the two configuration forms).
   */
  readonly present: Set<string> = new Set();
  /** The names written in each mapping of names (`pools`), by its path, in file order. */
  readonly names: Map<string, string[]> = new Map();
  readonly #lines: LineCounter | undefined;
  readonly #targets: ReadonlyMap<Alias, Node>;

  /**
   * @param lines maps offsets to positions; omit for values not read from a file
   * @param targets what each alias (`*name`) stands for, from `scanDocument`
   */
  constructor(lines?: LineCounter, targets: ReadonlyMap<Alias, Node> = new Map()) {
    this.#lines = lines;
    this.#targets = targets;
  }

  /** The node an alias refers to, if the anchor exists. Constant time. */
  resolve(alias: Alias): Node | undefined {
    return this.#targets.get(alias);
  }

  /** Every problem found: those kept plus those only counted. */
  get count(): number {
    return this.diagnostics.length + this.omitted;
  }

  // [SECURITY] Memory and output exhaustion: a file of 900,000 unknown keys
  // would otherwise hold 900,000 messages in memory and print, log and send
  // every one of them. Past MAX_DIAGNOSTICS problems are only counted.
  /** Records a problem, or only counts it once {@linkcode MAX_DIAGNOSTICS} are kept. */
  add(diagnostic: Diagnostic): void {
    if (this.diagnostics.length < MAX_DIAGNOSTICS) this.diagnostics.push(diagnostic);
    else this.omitted++;
  }

  /** The position of `offset` in the file, or the start of the file. */
  positionAt(offset: number): Position {
    if (!this.#lines || offset < 0) return { line: 1, col: 1 };
    const { line, col } = this.#lines.linePos(offset);
    return { line, col };
  }

  /** The position of `node`, if it came from the file. */
  positionOf(node: Node | undefined): Position | undefined {
    const offset = node?.range?.[0];
    if (offset === undefined || !this.#lines) return undefined;
    return this.positionAt(offset);
  }

  /** Records where `path` was written. */
  remember(path: string, node: Node | undefined): void {
    const pos = this.positionOf(node);
    if (pos) this.positions.set(path, pos);
  }

  /**
   * Adds a problem at `node`, or at the remembered position of `path` or its
   * closest parent, or at the start of the file.
   */
  report(path: string, message: string, node?: Node): void {
    if (this.diagnostics.length >= MAX_DIAGNOSTICS) {
      this.omitted++;
      return;
    }
    const pos = this.positionOf(node) ?? this.nearest(path) ?? { line: 1, col: 1 };
    this.diagnostics.push({ path, message, ...pos });
  }

  /** Adds a warning, positioned like {@linkcode report}. */
  warn(path: string, message: string, node?: Node): void {
    if (this.warnings.length >= MAX_DIAGNOSTICS) return;
    const pos = this.positionOf(node) ?? this.nearest(path) ?? { line: 1, col: 1 };
    this.warnings.push({ path, message, ...pos });
  }

  /** The position of `path` or of its closest remembered parent. */
  nearest(path: string): Position | undefined {
    for (let p = path; p !== "";) {
      const pos = this.positions.get(p);
      if (pos) return pos;
      const cut = Math.max(p.lastIndexOf("."), p.lastIndexOf("["));
      p = cut > 0 ? p.slice(0, cut) : "";
    }
    return undefined;
  }
}

/** Sorts diagnostics by position; unpositioned ones come first. */
export function sortDiagnostics(ds: readonly Diagnostic[]): Diagnostic[] {
  return [...ds].sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.col ?? 0) - (b.col ?? 0));
}
