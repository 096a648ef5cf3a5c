/** Route matching: host, path prefix, methods, order of precedence, prefix stripping. */

import assert from "node:assert/strict";
import { compileRoutes, type RouteSpec } from "../../src/routing/mod.ts";

const pick = (routes: RouteSpec<string>[], method: string, authority: string, path: string) =>
  compileRoutes(routes).match(method, authority, path)?.route.target;

Deno.test("compileRoutes() matches hosts exactly or by wildcard, in any case, ignoring the port", async (t) => {
  const routes: RouteSpec<string>[] = [
    { host: "api.example.com", target: "api" },
    { host: "*.example.com", target: "wild" },
  ];
  const cases: Array<[string, string | undefined]> = [
    ["api.example.com", "api"],
    ["API.Example.COM:8443", "api"],
    ["api.example.com.", "api"],
    ["www.example.com", "wild"],
    ["a.b.example.com", "wild"],
    ["example.com", undefined],
    ["evilexample.com", undefined],
    ["example.com.evil.net", undefined],
    ["[::1]:8080", undefined],
  ];
  for (const [authority, expected] of cases) {
    await t.step(`${authority} → ${expected}`, () => {
      assert.equal(pick(routes, "GET", authority, "/"), expected);
    });
  }
});

Deno.test("compileRoutes() matches path prefixes on segment boundaries only", async (t) => {
  const routes: RouteSpec<string>[] = [{ pathPrefix: "/api", target: "api" }];
  const cases: Array<[string, string | undefined]> = [
    ["/api", "api"],
    ["/api/", "api"],
    ["/api/users", "api"],
    ["/apix", undefined],
    ["/ap", undefined],
    ["/", undefined],
    ["/API", undefined],
  ];
  for (const [path, expected] of cases) {
    await t.step(`${path} → ${expected}`, () => {
      assert.equal(pick(routes, "GET", "h", path), expected);
    });
  }
  await t.step("a prefix written with a trailing slash means the same segment", () => {
    assert.equal(pick([{ pathPrefix: "/static/", target: "s" }], "GET", "h", "/static"), "s");
    assert.equal(pick([{ pathPrefix: "/static/", target: "s" }], "GET", "h", "/static/a.css"), "s");
    assert.equal(
      pick([{ pathPrefix: "/static/", target: "s" }], "GET", "h", "/staticx"),
      undefined,
    );
  });
  await t.step("the prefix / takes every path", () => {
    assert.equal(pick([{ pathPrefix: "/", target: "all" }], "GET", "h", "/anything"), "all");
  });
});

Deno.test("compileRoutes() cannot be evaded by percent-encoding unreserved characters", () => {
  const routes: RouteSpec<string>[] = [
    { pathPrefix: "/admin", target: "admin" },
    { target: "public" },
  ];
  assert.equal(pick(routes, "GET", "h", "/%61dmin/x"), "admin");
  assert.equal(pick(routes, "GET", "h", "/%41dmin/x"), "public", "paths are case-sensitive");
  // An encoded slash is not a segment boundary: it is a different path.
  assert.equal(pick([{ pathPrefix: "/a/b", target: "ab" }], "GET", "h", "/a%2fb"), undefined);
});

Deno.test("compileRoutes() takes the most specific route first, then the declared order", async (t) => {
  const routes: RouteSpec<string>[] = [
    { target: "default" },
    { host: "*.example.com", target: "wild" },
    { host: "*.api.example.com", target: "wild-api" },
    { host: "api.example.com", pathPrefix: "/v1", target: "api-v1" },
    { host: "api.example.com", target: "api" },
    { pathPrefix: "/static", target: "static" },
    { pathPrefix: "/static/img", target: "img" },
    { pathPrefix: "/static", methods: ["POST"], target: "static-post" },
    { pathPrefix: "/dup", target: "first" },
    { pathPrefix: "/dup", target: "second" },
  ];
  const cases: Array<[string, string, string, string]> = [
    ["GET", "api.example.com", "/v1/users", "api-v1"],
    ["GET", "api.example.com", "/v2", "api"],
    ["GET", "eu.api.example.com", "/", "wild-api"],
    ["GET", "www.example.com", "/static/x", "wild"],
    ["GET", "other.net", "/static/img/a.png", "img"],
    ["GET", "other.net", "/static/a.css", "static"],
    ["POST", "other.net", "/static/a.css", "static-post"],
    ["GET", "other.net", "/dup", "first"],
    ["GET", "other.net", "/", "default"],
  ];
  for (const [method, host, path, expected] of cases) {
    await t.step(`${method} ${host}${path} → ${expected}`, () => {
      assert.equal(pick(routes, method, host, path), expected);
    });
  }
});

Deno.test("compileRoutes() skips a route whose methods do not include the request's", () => {
  const routes: RouteSpec<string>[] = [
    { pathPrefix: "/upload", methods: ["post", "PUT"], target: "writer" },
  ];
  assert.equal(pick(routes, "PUT", "h", "/upload"), "writer");
  assert.equal(pick(routes, "GET", "h", "/upload"), undefined);
});

Deno.test("compileRoutes() strips the prefix from the path it hands on, when asked to", async (t) => {
  const table = compileRoutes([
    { pathPrefix: "/api", stripPrefix: true, target: "api" },
    { pathPrefix: "/keep", target: "keep" },
  ]);
  const cases: Array<[string, string]> = [
    ["/api/users?x=1", "/users?x=1"],
    ["/api", "/"],
    ["/api/", "/"],
    ["/%61pi/users", "/users"],
    ["/api/%2e%2e", "/%2e%2e"],
    ["/keep/x", "/keep/x"],
  ];
  for (const [path, forwarded] of cases) {
    await t.step(`${path} → ${forwarded}`, () => {
      assert.equal(table.match("GET", "h", path)?.path, forwarded);
    });
  }
});

Deno.test("compileRoutes() matches nothing when no route takes the request", () => {
  const table = compileRoutes<string>([{ host: "a.example", target: "a" }]);
  assert.equal(table.match("GET", "b.example", "/"), undefined);
  assert.equal(compileRoutes<string>([]).match("GET", "a.example", "/"), undefined);
});
