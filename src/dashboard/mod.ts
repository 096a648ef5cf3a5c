/**
 * The terminal dashboard: {@linkcode render} turns a snapshot into the
 * lines of one frame, a pure function; the driver beside it owns the
 * terminal, the refresh timer and the keys.
 *
 * @example
 * ```ts
 * import { render } from "./mod.ts";
 *
 * const lines = render(snapshot, { width: 80, height: 24, color: false });
 * console.log(lines.join("\n"));
 * ```
 *
 * @module
 */

export { type DashboardView, render, type RenderOptions } from "./render.ts";
export { COLUMN_DROP_ORDER, type ColumnKey } from "./_table.ts";
export {
  Dashboard,
  type DashboardOptions,
  dashboardWanted,
  processTerminal,
  type Terminal,
} from "./driver.ts";
