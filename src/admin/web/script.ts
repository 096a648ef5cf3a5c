/**
 * The web dashboard's script, served as `/dashboard.js`: one function
 * scope, made of four parts (formats and figures, panels, charts, the
 * connection), each in its own file.
 *
 * Why strings: the page must work offline and inside the compiled binary,
 * with no build step, so its files are TypeScript string constants that
 * `deno compile` embeds like any other code (no `--include`). The parts are
 * `String.raw` templates, so the JavaScript is served exactly as written
 * (regular expressions and `\u` escapes included); the one rule this puts
 * on it is no backtick and no dollar-brace. It is plain ES2020 run by the
 * browser, never by Deno: `tests/admin/web_test.ts` checks that it parses,
 * and the browser tests in `tests/webdash/` run it.
 *
 * @module
 */

import { CLIENT_BASE } from "./_client_base.ts";
import { CLIENT_CHARTS } from "./_client_charts.ts";
import { CLIENT_PANELS } from "./_client_panels.ts";
import { CLIENT_STREAM } from "./_client_stream.ts";

/** The page's whole script. */
export const SCRIPT: string = '(function () {\n"use strict";\n' + CLIENT_BASE + CLIENT_PANELS +
  CLIENT_CHARTS + CLIENT_STREAM + "})();\n";
