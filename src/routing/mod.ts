/**
 * Routing: which pool a request goes to, by host, path prefix and method.
 *
 * @module
 */

export { compileRoutes, type RouteMatch, type RouteSpec, type RouteTable } from "./match.ts";
