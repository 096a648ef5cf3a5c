/**
 * Reload: a pure plan from the running and the next configuration
 * ({@linkcode planReload}), and the reloader that reads the file, plans and
 * has the plan applied ({@linkcode createReloader}).
 *
 * @module
 */

export {
  type BackendChanges,
  type ListenerChanges,
  planReload,
  type ReloadChanges,
  type ReloadPlan,
  type ReloadRefusal,
} from "./plan.ts";
export { createReloader, NO_FILE_TO_RELOAD, type ReloaderOptions } from "./reloader.ts";
