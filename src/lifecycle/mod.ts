/**
 * Lifecycle: the long-lived parts of a running Aegis, started in order on
 * one disposal stack ({@linkcode Lifecycle}), the listeners it owns, the
 * runtime a reload swaps, drain control, and how the parts built once take
 * their settings.
 *
 * @module
 */

export { Lifecycle, type LifecycleOptions, LifecycleStoppedError } from "./lifecycle.ts";
export {
  ADMIN_LISTENER,
  describeBindError,
  type Listener,
  listenerOf,
  type ListenerOptions,
  METRICS_LISTENER,
  openListener,
  urlOf,
} from "./listener.ts";
export { type BuildRuntime, CurrentRuntime, RuntimeStoppedError } from "./current.ts";
export { type Drainable, type DrainControl, drainControl } from "./drain.ts";
export {
  type ListenerMoves,
  ListenerSet,
  type ListenerSetOptions,
  type OpenListener,
  type StagedListeners,
} from "./listener_set.ts";
export { loggerFor, tickFor } from "./parts.ts";
export {
  type AdminListeners,
  type AdminListenersOptions,
  type AdminParts,
  openAdminListeners,
} from "./admin_listeners.ts";
export {
  type L4ListenerParts,
  openTcpListener,
  openUdpListener,
  type UdpListener,
} from "./l4_listeners.ts";
export { type ApplyParts, applyPlan } from "./apply.ts";
export { snapshotSources, type SourceParts } from "./sources.ts";
export {
  loadListenerCertificates,
  refreshCertificates,
  type TlsConfig,
  WATCH_DEBOUNCE_MS,
} from "./certificates.ts";
