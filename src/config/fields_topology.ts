/**
 * The topology of `aegis.yml`: listeners (front doors, each with its routes)
 * and pools (backend groups by name). Each comes twice: as the file may
 * write it, where a listener or pool leaves out what it inherits from the
 * top-level sections, and resolved, with every field present, which is what
 * the code reads and `aegis check` prints.
 *
 * @module
 */

import {
  checkCidr,
  checkListenAddress,
  checkMethod,
  checkPathPrefix,
  checkRouteHost,
} from "./checks.ts";
import { DAY_MS } from "./duration.ts";
import {
  adaptiveSection,
  frontFields,
  listenerSecuritySection,
  rateLimitSection,
  websocketSection,
} from "./fields_front.ts";
import { backendsField, poolSections } from "./fields_pool.ts";
import { checkName, named } from "./named.ts";
import { overrides } from "./overrides.ts";
import { bool, duration, int, oneOf, str } from "./scalars.ts";
import {
  type FieldMap,
  type Infer,
  list,
  optional,
  type OptionalField,
  section,
} from "./schema.ts";

/** The protocols a listener may name: `http` routes requests, `tcp` and `udp` forward bytes (L4). */
export const PROTOCOLS = ["http", "tcp", "udp"] as const;

/** A route: which requests it takes, and the pool they go to. */
export const routeSection = section("A route", {
  match: optional(section("Which requests the route takes; every request when absent", {
    host: optional(str({
      doc:
        "Host name, exact (api.example.com) or a wildcard for every name under a domain (*.example.com); any case, the request's port ignored",
      check: checkRouteHost,
    })),
    path_prefix: optional(str({
      doc: "Path prefix, matched on segment boundaries: /api takes /api and /api/x, never /apix",
      check: checkPathPrefix,
    })),
    methods: optional(list(str({ doc: "An HTTP method", check: checkMethod }), {
      doc: "Only these methods; every method when absent",
      min: 1,
    })),
  })),
  pool: str({ doc: "The pool requests taking this route go to", check: checkName }),
  strip_prefix: bool({
    doc: "Remove match.path_prefix from the path sent to the backend (/api/users → /users)",
    default: false,
  }),
});

/** What names a listener and says how it is reached. */
const listenerIdentity = {
  name: str({ doc: "The listener's name, unique; metrics and logs carry it", check: checkName }),
  protocol: oneOf(PROTOCOLS, {
    doc:
      "What the listener speaks: http (requests routed to pools), tcp or udp (bytes forwarded to one pool)",
    default: "http",
  }),
  address: str({
    doc: "host:port the listener binds to; port 0 picks a free port",
    check: checkListenAddress,
  }),
};

const routesField = optional(list(routeSection, {
  doc:
    "http listeners: where requests go, the most specific match first, then declared order (at least one)",
  min: 1,
}));

const cidrs = (doc: string) =>
  list(str({ doc: "A network", check: checkCidr }), { doc, default: [] });

/** `udp`: the NAT session table of a udp listener. */
export const udpSection = section("The NAT session table of a udp listener", {
  session_timeout: duration({
    doc: "A client's session (its own socket to its backend) ends after this long without traffic",
    default: 30_000,
    max: DAY_MS,
  }),
  max_sessions: int({
    doc: "Most sessions at once; past it the least recently active one is evicted",
    default: 10_000,
    min: 1,
    max: 1_000_000,
  }),
  reply_timeout: duration({
    doc:
      "For request/response protocols (DNS, RADIUS, NTP): a backend that has not answered a session this long after its datagram counts as failed for its breaker, and the session picks another; 0 turns it off (one-way protocols such as syslog never answer)",
    default: 0,
    max: DAY_MS,
    zero: true,
  }),
});

/** `tls`: TLS termination on an http listener. */
export const tlsSection = section("TLS termination on an http listener", {
  certificates: list(
    section("A certificate and its key", {
      cert_file: str({
        doc:
          "PEM certificate file: the server certificate first, then its chain (certbot's fullchain.pem)",
      }),
      key_file: str({ doc: "PEM private key file of that certificate (certbot's privkey.pem)" }),
    }),
    {
      doc:
        "The certificates served; the one whose names match the client's SNI (exact, then wildcard), the first otherwise",
      min: 1,
    },
  ),
  min_version: str({
    doc:
      "Oldest TLS version accepted; only 1.2 (TLS 1.2 and 1.3): the runtime's TLS library offers no way to refuse 1.2",
    default: "1.2",
    check: (v) =>
      v === "1.2"
        ? undefined
        : v === "1.3"
        ? "1.3 cannot be enforced: Deno's TLS (rustls) offers no setting to refuse TLS 1.2 clients; use 1.2"
        : "must be 1.2 (TLS 1.2 and 1.3 are accepted)",
  }),
});

/** What every listener may carry besides its protocol's own settings. */
const listenerCommon = {
  pool: optional(str({
    doc: "tcp and udp listeners: the pool every connection or datagram goes to",
    check: checkName,
  })),
  allow: cidrs("Networks (CIDR) that may connect; empty allows every address"),
  deny: cidrs("Networks (CIDR) refused at once, before allow is consulted"),
  accept_proxy_protocol: cidrs(
    "tcp listeners: networks trusted to send a PROXY protocol header (v1 or v2); their connections must start with one, anyone else sending one is refused",
  ),
  udp: optional(udpSection),
  tls: optional(tlsSection),
  websocket: optional(websocketSection),
  redirect_to_https: optional(int({
    doc:
      "http listeners without tls or routes: answer every request with 308 to https on this port (443 is left out of the URL)",
    min: 1,
    max: 65535,
  })),
};

/** Each field of `fields`, made optional. */
function allOptional<M extends FieldMap>(
  fields: M,
): { [K in keyof M]: OptionalField<Infer<M[K]>> } {
  return Object.fromEntries(Object.entries(fields).map(([k, f]) => [k, optional(f)])) as {
    [K in keyof M]: OptionalField<Infer<M[K]>>;
  };
}

/** A listener as the file writes it: what it leaves out, it inherits. */
export const fileListenerSection = section("A front door", {
  ...listenerIdentity,
  ...listenerCommon,
  ...allOptional(frontFields),
  rate_limit: overrides("rate_limit", rateLimitSection),
  adaptive: overrides("adaptive", adaptiveSection),
  security: overrides("security", listenerSecuritySection),
  routes: routesField,
});

/** A listener resolved: every field present. */
export const listenerSection = section("A front door", {
  ...listenerIdentity,
  ...listenerCommon,
  ...frontFields,
  rate_limit: rateLimitSection,
  adaptive: adaptiveSection,
  security: listenerSecuritySection,
  routes: routesField,
});

/** A pool as the file writes it: backends, and overrides of the top-level sections. */
export const filePoolSection = section("A backend group", {
  backends: backendsField,
  load_balancing: overrides("load_balancing", poolSections.load_balancing),
  health_check: overrides("health_check", poolSections.health_check),
  circuit_breaker: overrides("circuit_breaker", poolSections.circuit_breaker),
  retries: overrides("retries", poolSections.retries),
  upstream: overrides("upstream", poolSections.upstream),
});

/** A pool resolved: every field present. */
export const poolSection = section("A backend group", { backends: backendsField, ...poolSections });

/** `listeners` as the file writes it. */
export const fileListenersField = optional(list(fileListenerSection, {
  doc: "The front doors, each with its own address, limits and routes",
  min: 1,
}));

/** `pools` as the file writes it. */
export const filePoolsField = optional(named(filePoolSection, {
  doc: "Backend groups by name, each with its own backends and settings",
  min: 1,
}));

/** `listeners`, resolved. */
export const listenersField = list(listenerSection, { doc: "The front doors", min: 1 });

/** `pools`, resolved. */
export const poolsField = named(poolSection, { doc: "Backend groups by name", min: 1 });
