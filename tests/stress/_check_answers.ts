/**
 * Invariants on answers: every request got exactly one, the right one, and
 * a lost or broken one only where a backend broke it.
 *
 * @module
 */

import { Ending } from "./_clients.ts";
import { CUT_BY_BACKEND, Problems, requests } from "./_problems.ts";
import type { StressReport } from "./_report.ts";

/** Every request settled exactly once; late requests were refused and never reached Aegis. */
export function exactlyOnce(r: StressReport): string[] {
  const p = new Problems();
  const o = r.outcomes;
  for (let i = 0; i < requests(r); i++) {
    p.check(o.settled[i] === 1, "a request did not settle exactly once", `#${i}: ${o.settled[i]}×`);
    p.check(o.ending[i] !== Ending.None, "a request has no outcome", `#${i}`);
  }
  p.check(r.late.answered === 0, "a request sent after the drain began was answered", r.late);
  p.check(
    r.ledger.foreign.length === 0,
    "Aegis logged requests the run never sent",
    r.ledger.foreign,
  );
  return p.list();
}

/**
 * A client may miss a response, or get one whose body breaks off, only when
 * Aegis cut that response because its backend failed in the middle of the
 * body (the access line says `upstream_error`/`upstream_timeout`); and every
 * response Aegis cut must look cut to its client, never complete.
 */
export function connectionErrorsAreLegitimate(r: StressReport): string[] {
  const p = new Problems();
  const o = r.outcomes;
  for (let i = 0; i < requests(r); i++) {
    const outcome = r.ledger.outcome.get(i);
    const cut = outcome !== undefined && CUT_BY_BACKEND.has(outcome);
    if (o.ending[i] === Ending.NoResponse || o.ending[i] === Ending.Aborted) {
      p.check(
        cut,
        "a client lost its response although no backend failed mid-body",
        `#${i}: ${outcome}`,
      );
    }
    if (cut) {
      p.check(
        o.ending[i] !== Ending.Complete,
        "a cut response looked complete to its client",
        `#${i}`,
      );
    }
    if (outcome !== undefined && !cut) {
      p.add("a response ended in a way no client caused", `#${i}: ${outcome}`);
    }
  }
  return p.list();
}

/** One access line per request, with the status and backend the client saw. */
export function oneAccessLinePerRequest(r: StressReport): string[] {
  const p = new Problems();
  const o = r.outcomes;
  const l = r.ledger;
  for (let i = 0; i < requests(r); i++) {
    p.check(
      l.lines[i] === 1,
      "a request does not have exactly one access line",
      `#${i}: ${l.lines[i]}`,
    );
    if (o.ending[i] === Ending.Complete || o.ending[i] === Ending.Aborted) {
      p.check(
        o.status[i] === l.status[i],
        "the access line's status is not the client's",
        `#${i}: ${o.status[i]} vs ${l.status[i]}`,
      );
    }
    if (o.backend[i]! >= 0) {
      p.check(o.backend[i] === l.backend[i], "the access line names another backend", `#${i}`);
    }
  }
  return p.list();
}

/**
 * Aegis logs nothing at error level: a response cut because a backend broke
 * mid-body is a warning from the request path (the runtime also reports the
 * aborted body to the listener's `onError`, which keeps that at debug).
 * Anything at error level (`internal error` above all) is a bug.
 */
export function noUnexplainedErrors(r: StressReport): string[] {
  const p = new Problems();
  for (const line of r.ledger.errors) p.add("Aegis logged an error", line);
  return p.list();
}
