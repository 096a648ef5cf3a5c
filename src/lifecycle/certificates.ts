/**
 * A TLS listener's certificates over its life: read at open, re-read on a
 * reload and when their files change on disk, swapped in only when they
 * read and check cleanly (new connections get them, open ones keep
 * theirs), refused with a clear event otherwise (the old ones keep
 * serving), and announced when they expire within 14 days.
 *
 * Files are watched by directory, since certbot renews by pointing the
 * `live/` symlinks at new files, which a watch on the old file itself would
 * not see; the burst of events a renewal makes is debounced into one check.
 *
 * @module
 */

import type { ListenerConfig } from "../config/mod.ts";
import type { EventLog } from "../events/mod.ts";
import type { Logger } from "../log/mod.ts";
import type { Server } from "../server/mod.ts";
import {
  expiringSoon,
  EXPIRY_WARNING_MS,
  loadCertificate,
  type LoadedCertificate,
} from "../tls/mod.ts";

/** A listener's `tls` section. */
export type TlsConfig = NonNullable<ListenerConfig["tls"]>;

/** How long the files must be quiet before a change is checked: a renewal writes several. */
export const WATCH_DEBOUNCE_MS = 500;

/**
 * Reads and checks every certificate of `tls`.
 *
 * @throws {CertificateError} for the first that cannot be served
 */
export function loadListenerCertificates(tls: TlsConfig, now = Date.now()): LoadedCertificate[] {
  return tls.certificates.map((c) =>
    loadCertificate({ certFile: c.cert_file, keyFile: c.key_file }, now)
  );
}

/** Where a TLS listener reports what happens to its certificates. */
export interface CertificateReports {
  readonly listener: string;
  readonly logger: Logger;
  readonly events?: EventLog;
}

/** Logs and records a warning for each of `certificates` expiring within 14 days. */
export function warnExpiring(
  certificates: readonly LoadedCertificate[],
  to: CertificateReports,
  now = Date.now(),
): void {
  for (const c of expiringSoon(certificates, now, EXPIRY_WARNING_MS)) {
    const fields = {
      listener: to.listener,
      subject: c.subject,
      not_after: new Date(c.notAfter).toISOString(),
      days_left: Math.floor((c.notAfter - now) / 86_400_000),
    };
    to.logger.warn("TLS certificate expires soon", fields);
    to.events?.record(
      "tls",
      `listener ${to.listener}: certificate ${c.subject} expires ${fields.not_after}`,
      fields,
    );
  }
}

/** True when `a` and `b` hold the same certificates and keys, in the same order. */
function samePems(a: readonly LoadedCertificate[], b: readonly LoadedCertificate[]): boolean {
  return a.length === b.length && a.every((c, i) => c.cert === b[i]!.cert && c.key === b[i]!.key);
}

/**
 * Re-reads `tls` and serves the result on `server` if it differs from what
 * it serves; a certificate that cannot be served is refused, logged and
 * recorded, and the old ones keep serving.
 *
 * @returns whether new certificates are being served
 */
export function refreshCertificates(
  server: Server,
  tls: TlsConfig,
  why: "reload" | "files changed",
  to: CertificateReports,
): boolean {
  let loaded: LoadedCertificate[];
  try {
    loaded = loadListenerCertificates(tls);
  } catch (e) {
    const error = e instanceof Error ? e.message : String(e);
    to.logger.error("TLS certificate refused, the previous one keeps serving", {
      listener: to.listener,
      why,
      error,
    });
    to.events?.record(
      "tls",
      `listener ${to.listener}: new certificate refused (${error}); the previous one keeps serving`,
      { listener: to.listener, why, error },
    );
    return false;
  }
  warnExpiring(loaded, to);
  if (samePems(server.certificates ?? [], loaded)) return false;
  try {
    server.setCertificates?.(loaded);
  } catch (e) {
    to.logger.error("TLS certificates not swapped: cannot bind a new socket", {
      listener: to.listener,
      error: e instanceof Error ? e.message : String(e),
    });
    return false;
  }
  const subjects = loaded.map((c) => c.subject).join("; ");
  to.logger.info("TLS certificates replaced for new connections", {
    listener: to.listener,
    why,
    subjects,
  });
  to.events?.record("tls", `listener ${to.listener}: certificates replaced (${why})`, {
    listener: to.listener,
    why,
    subjects,
  });
  return true;
}

/**
 * Calls `onChange` once the directories holding `tls`'s files have been
 * quiet for {@linkcode WATCH_DEBOUNCE_MS} after a change. Stops when disposed.
 */
export function watchCertificateFiles(
  tls: () => TlsConfig,
  onChange: () => void,
  debounceMs = WATCH_DEBOUNCE_MS,
): Disposable {
  const dirs = new Set(
    tls().certificates.flatMap((c) => [dirOf(c.cert_file), dirOf(c.key_file)]),
  );
  let watcher: Deno.FsWatcher;
  try {
    watcher = Deno.watchFs([...dirs], { recursive: false });
  } catch {
    // A directory that vanished: a reload that brings the files back restarts the watch.
    return { [Symbol.dispose]() {} };
  }
  let timer: ReturnType<typeof setTimeout> | undefined;
  (async () => {
    try {
      for await (const _event of watcher) {
        clearTimeout(timer);
        timer = setTimeout(onChange, debounceMs);
      }
    } catch {
      // Closed.
    }
  })();
  return {
    [Symbol.dispose]() {
      clearTimeout(timer);
      try {
        watcher.close();
      } catch {
        // Already closed.
      }
    },
  };
}

function dirOf(path: string): string {
  const slash = path.lastIndexOf("/");
  return slash < 0 ? "." : slash === 0 ? "/" : path.slice(0, slash);
}
