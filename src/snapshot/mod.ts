/**
 * Snapshots: the frozen, plain-data view every reader uses.
 *
 * @module
 */

export {
  type BackendSnapshot,
  buildSnapshot,
  type ConnectionsSnapshot,
  type ConnectionsSource,
  type LimiterSnapshot,
  type ListenerSnapshot,
  type ListenerSource,
  type Snapshot,
  SNAPSHOT_EVENTS,
  type SnapshotSources,
  type StoreSnapshot,
  type TracingSnapshot,
  type UdpSnapshot,
} from "./snapshot.ts";
export { Snapshotter } from "./ticker.ts";
export {
  HISTORY_STEP_MS,
  HISTORY_WINDOW_MS,
  type HistoryOptions,
  type HistoryPoint,
  SnapshotHistory,
} from "./history.ts";
export { errorShare, intervalSeconds, perSecond, responseTotals } from "./rates.ts";
