/**
 * A stress run in a few lines, for the test output and the README.
 *
 * @module
 */

import { Ending } from "./_clients.ts";
import { mib } from "./_leaks.ts";
import type { StressReport } from "./_report.ts";

function tally(values: Iterable<number | string>): string {
  const by = new Map<number | string, number>();
  for (const v of values) by.set(v, (by.get(v) ?? 0) + 1);
  return [...by].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, n]) => `${k}: ${n}`).join(", ");
}

/** Describes what a run did and measured. */
export function summary(r: StressReport): string {
  const n = r.options.requests;
  const o = r.outcomes;
  const endings = [0, 0, 0, 0];
  const statuses: number[] = [];
  const answeredBy: string[] = [];
  for (let i = 0; i < n; i++) {
    endings[o.ending[i]!]!++;
    statuses.push(o.status[i]!);
    if (o.backend[i]! >= 0) answeredBy.push(r.names[o.backend[i]!]!);
  }
  const l = r.ledger;
  let retries = 0;
  for (const list of l.retries.values()) retries += list.length;
  let failedTries = 0;
  for (const list of l.forwardFailures.values()) failedTries += list.length;
  const m = r.memory;
  return [
    `stress ${r.options.transport}: ${n} requests at concurrency ${r.options.concurrency} in ${
      (r.elapsedMs / 1000).toFixed(1)
    } s`,
    `  endings: ${endings[Ending.Complete]} complete, ${endings[Ending.Aborted]} cut mid-body, ${
      endings[Ending.NoResponse]
    } without response; late requests refused ${r.late.sent - r.late.answered}/${r.late.sent}`,
    `  statuses: ${tally(statuses)}`,
    `  answered by backend: ${
      tally(answeredBy)
    }; failed tries ${failedTries}, retries ${retries}, breaker openings ${
      l.count("warn", "circuit breaker opened")
    }, reloads ${l.count("info", "configuration reloaded")}`,
    `  in flight at drain: ${r.inFlightAtDrain}; buckets peak ${r.peaks.trackedClients}/${r.maxClients}, evictions ${r.evictions}`,
    `  heap after GC (${m.start.gc}): ${mib(m.start.heapUsed)} → ${mib(m.end.heapUsed)} (peak ${
      mib(r.peaks.heapUsed)
    } before GC); RSS ${mib(m.start.rss)} → ${
      mib(m.end.rss)
    }; sockets ${r.sockets.before} → ${r.sockets.after}; timers left ${r.timersLeft.length}`,
  ].join("\n");
}
