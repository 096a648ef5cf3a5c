/**
 * Field names are snake_case: the names in event fields and log lines reach
 * operators as JSON keys (the event ring in `GET /status`, the dashboard's
 * event log, log lines), beside a configuration file, an access log and
 * Prometheus names that are all snake_case. TypeScript's own names are
 * camelCase, so the usual slip is spreading a TypeScript object into the
 * fields (`{ ...limits }`): this type makes the compiler refuse it at the
 * call site.
 *
 * @module
 */

/** The type a wrongly named field must have: nothing has it, and its name says why. */
export interface NotSnakeCase {
  readonly "field names are snake_case": never;
}

/**
 * `F` with every field whose name has an upper-case letter retyped as
 * {@linkcode NotSnakeCase}, so an argument typed `F & SnakeCaseFields<F>`
 * does not compile with such a field. Names only known as `string` (an
 * index signature) pass: they are checked where they are written.
 *
 * @example
 * ```ts
 * function record<F extends Record<string, unknown>>(fields: F & SnakeCaseFields<F>) {}
 * record({ max_connections: 1 }); // compiles
 * record({ maxConnections: 1 }); // error: 'number' is not assignable to 'NotSnakeCase'
 * ```
 */
export type SnakeCaseFields<F> = {
  readonly [K in keyof F]: K extends string
    ? string extends K ? F[K] : K extends Lowercase<K> ? F[K] : NotSnakeCase
    : F[K];
};
