/**
 * Shared by the invariant modules: a list of broken rules with examples,
 * and a one-line account of a request for those examples.
 *
 * @module
 */

import type { StressReport } from "./_report.ts";

/** How a response ends when Aegis cut it because its backend failed mid-body. */
export const CUT_BY_BACKEND: ReadonlySet<string> = new Set(["upstream_error", "upstream_timeout"]);

/** Collects problems, listing at most a few examples of each. */
export class Problems {
  readonly #found = new Map<string, string[]>();
  readonly #counts = new Map<string, number>();

  /** Records one breach of `rule`. */
  add(rule: string, example: string | number): void {
    const list = this.#found.get(rule) ?? [];
    if (list.length < 5) list.push(String(example));
    this.#found.set(rule, list);
    this.#counts.set(rule, (this.#counts.get(rule) ?? 0) + 1);
  }

  /** Records a breach of `rule` unless `ok`. */
  check(ok: boolean, rule: string, detail: unknown): void {
    if (!ok) this.add(rule, typeof detail === "string" ? detail : JSON.stringify(detail));
  }

  /** One line per broken rule. */
  list(): string[] {
    return [...this.#found].map(([rule, ex]) =>
      `${rule} (${this.#counts.get(rule)}×, e.g. ${ex.join("; ")})`
    );
  }
}

/** What the client and the log say about request `i`, for examples. */
export function describe(r: StressReport, i: number): string {
  const l = r.ledger;
  return JSON.stringify({
    client: {
      ending: r.outcomes.ending[i],
      status: r.outcomes.status[i],
      backend: r.names[r.outcomes.backend[i]!] ?? "-",
    },
    log: {
      status: l.status[i],
      backend: r.names[l.backend[i]!] ?? l.backend[i],
      reason: l.reason.get(i),
      outcome: l.outcome.get(i),
      failed: l.forwardFailures.get(i)?.map((b) => r.names[b]),
      retried: l.retries.get(i)?.map((b) => r.names[b]),
    },
  });
}

/** Requests the run sent. */
export function requests(r: StressReport): number {
  return r.options.requests;
}
