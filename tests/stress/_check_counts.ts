/**
 * Invariants on counts: the global counters, each backend's counters and
 * `/metrics` agree with one another, with the access log and with what the
 * clients saw.
 *
 * @module
 */

import { STATUS_CLASSES, statusClass } from "../../src/metrics/mod.ts";
import { NO_BACKEND } from "./_ledger.ts";
import { CUT_BY_BACKEND, Problems, requests } from "./_problems.ts";
import { total } from "./_prometheus.ts";
import type { StressReport } from "./_report.ts";

/** The proxy's global counters equal what was sent, what was logged and what clients saw. */
export function globalCountersAddUp(r: StressReport): string[] {
  const p = new Problems();
  const n = requests(r);
  const g = r.quiet.snapshot.global;
  p.check(
    r.quiet.requests === n,
    "Aegis did not count exactly the requests sent",
    `${r.quiet.requests} of ${n}`,
  );
  p.check(g.requests === n, "the snapshot's request count is off", `${g.requests} of ${n}`);
  const logged: Record<string, number> = Object.fromEntries(STATUS_CLASSES.map((c) => [c, 0]));
  let limited = 0;
  for (let i = 0; i < n; i++) {
    logged[statusClass(r.ledger.status[i]!)]!++;
    if (r.ledger.status[i] === 429) limited++;
  }
  const sum = STATUS_CLASSES.reduce((s, c) => s + g.responses[c], 0);
  p.check(sum === n, "responses by class do not add up to requests", {
    ...g.responses,
    requests: n,
  });
  for (const c of STATUS_CLASSES) {
    p.check(
      g.responses[c] === logged[c],
      "a status class count differs from the access log",
      `${c}: ${g.responses[c]} vs ${logged[c]}`,
    );
  }
  p.check(
    g.rateLimited === limited,
    "the 429 count differs from the access log",
    `${g.rateLimited} vs ${limited}`,
  );
  p.check(Object.keys(g.rejects).length === 0, "requests were rejected by validation", g.rejects);
  return p.list();
}

/** Tries and failures per backend, as Aegis's log tells them. */
export function expectedPerBackend(r: StressReport): { tries: number[]; errors: number[] } {
  const l = r.ledger;
  const tries = r.urls.map(() => 0);
  const errors = r.urls.map(() => 0);
  const bump = (list: number[], b: number) => {
    if (b >= 0) list[b]!++;
  };
  for (let i = 0; i < requests(r); i++) {
    const failed = l.forwardFailures.get(i) ?? [];
    const retried = l.retries.get(i) ?? [];
    for (const b of failed) {
      bump(tries, b);
      bump(errors, b);
    }
    const last = l.backend[i]!;
    // The access line names the last backend tried. It answered (its
    // response was relayed) unless that try failed before answering: a
    // failure that was not retried, or one retried with no backend left.
    const lastFailed = failed.length > retried.length ||
      (retried.length > 0 && retried[retried.length - 1] === last);
    if (last === NO_BACKEND || lastFailed) continue;
    bump(tries, last);
    const outcome = l.outcome.get(i);
    if (l.status[i]! >= 500 || (outcome !== undefined && CUT_BY_BACKEND.has(outcome))) {
      bump(errors, last);
    }
  }
  return { tries, errors };
}

/**
 * Each backend's request and error counters (summed over every state object
 * it had: a backend removed and re-added starts afresh) equal the tries and
 * failures Aegis logged for it, and so add up to the totals; the clients'
 * view of who answered agrees with the log.
 */
export function backendCountersAddUp(r: StressReport): string[] {
  const p = new Problems();
  const { tries, errors } = expectedPerBackend(r);
  const counted = r.urls.map(() => ({ requests: 0, errors: 0 }));
  for (const s of r.quiet.states) {
    const b = r.urls.indexOf(s.id);
    if (b < 0) {
      p.add("a state object belongs to no backend of the run", s.id);
      continue;
    }
    counted[b]!.requests += s.requests;
    counted[b]!.errors += s.errors;
  }
  r.names.forEach((name, b) => {
    p.check(
      counted[b]!.requests === tries[b],
      "a backend's request counter differs from its logged tries",
      `${name}: ${counted[b]!.requests} vs ${tries[b]}`,
    );
    p.check(
      counted[b]!.errors === errors[b],
      "a backend's error counter differs from its logged failures",
      `${name}: ${counted[b]!.errors} vs ${errors[b]}`,
    );
  });
  // And in total: every request Aegis counted was tried once, unless it was
  // answered without a try (429, 503), plus once more per retry, unless the
  // retry found no backend left.
  const l = r.ledger;
  let untried = 0;
  let retries = 0;
  let retriedIntoNothing = 0;
  for (let i = 0; i < requests(r); i++) {
    const retried = l.retries.get(i) ?? [];
    retries += retried.length;
    if (l.backend[i] === NO_BACKEND) untried++;
    else if (retried.length > 0 && retried[retried.length - 1] === l.backend[i]) {
      retriedIntoNothing++;
    }
  }
  const sum = counted.reduce((s, c) => s + c.requests, 0);
  const expected = r.quiet.requests - untried + retries - retriedIntoNothing;
  p.check(sum === expected, "backend request counters do not add up to the requests counted", {
    backends: sum,
    requests: r.quiet.requests,
    untried,
    retries,
    retriedIntoNothing,
  });
  for (let i = 0; i < requests(r); i++) {
    p.check(l.backend[i]! >= NO_BACKEND, "an access line names an unknown backend", `#${i}`);
    const saw = r.outcomes.backend[i]!;
    const failed = (l.forwardFailures.get(i) ?? []).length;
    const retried = (l.retries.get(i) ?? []).length;
    if (saw >= 0) {
      p.check(
        failed === retried,
        "a client got a backend's answer after its last try failed",
        `#${i}`,
      );
    }
  }
  return p.list();
}

/** `/metrics` says what the snapshot says, and both what the live counters say. */
export function metricsAgree(r: StressReport): string[] {
  const p = new Problems();
  const m = r.quiet.metrics;
  const g = r.quiet.snapshot.global;
  const n = requests(r);
  p.check(
    total(m, "proxy_requests_total") === n,
    "proxy_requests_total is not the requests sent",
    total(m, "proxy_requests_total"),
  );
  p.check(
    total(m, "proxy_responses_total") === n,
    "proxy_responses_total does not add up to the requests",
    total(m, "proxy_responses_total"),
  );
  for (const c of STATUS_CLASSES) {
    const v = total(m, "proxy_responses_total", (l) => l.status_class === c);
    p.check(
      v === g.responses[c],
      "proxy_responses_total differs from the snapshot",
      `${c}: ${v} vs ${g.responses[c]}`,
    );
  }
  const durations = total(m, "proxy_request_duration_seconds_count");
  p.check(
    durations === n,
    "request duration histograms do not count every request",
    `${durations} of ${n}`,
  );
  p.check(
    total(m, "proxy_rate_limited_total") === g.rateLimited,
    "proxy_rate_limited_total differs",
    g.rateLimited,
  );
  p.check(
    total(m, "proxy_active_connections") === 0,
    "client connections open after the drain",
    total(m, "proxy_active_connections"),
  );
  for (const b of r.quiet.snapshot.backends) {
    const live = r.quiet.states.filter((s) => s.id === b.id);
    const mine = (l: Readonly<Record<string, string>>) => l.backend === b.id;
    p.check(
      live.some((s) => s.requests === b.metrics.requests && s.errors === b.metrics.errors),
      "the snapshot differs from the live counters",
      b.id,
    );
    p.check(
      total(m, "proxy_backend_requests_total", mine) === b.metrics.requests,
      "proxy_backend_requests_total differs from the snapshot",
      b.id,
    );
    p.check(
      total(m, "proxy_backend_failures_total", mine) === b.metrics.errors,
      "proxy_backend_failures_total differs from the snapshot",
      b.id,
    );
    p.check(
      total(m, "proxy_backend_connections", mine) === 0,
      "proxy_backend_connections is not 0 at rest",
      b.id,
    );
  }
  const tracked = total(m, "proxy_rate_limit_tracked_clients");
  p.check(tracked <= r.maxClients, "proxy_rate_limit_tracked_clients over max_clients", tracked);
  return p.list();
}
