/**
 * Reading one PEM file of a configuration: bounded in size, a regular file
 * only, and an error that says why in words an operator acts on. Shared by
 * listener certificates and the CA bundles backends are verified against.
 *
 * @module
 */

/** Largest PEM file read: a chain is a few KiB, a system CA bundle about 200 KiB. */
export const MAX_PEM_BYTES = 1024 * 1024;

/**
 * The text of the PEM file at `path`.
 *
 * @throws {Error} saying why it cannot be read (missing, not a regular file, too large)
 */
export function readPemText(path: string): string {
  let info: Deno.FileInfo;
  try {
    info = Deno.statSync(path);
  } catch (e) {
    throw new Error(`cannot read ${path}: ${whyUnreadable(e)}`);
  }
  // [SECURITY] A device or a huge file would block or exhaust memory.
  if (!info.isFile) throw new Error(`${path} is not a regular file`);
  if (info.size > MAX_PEM_BYTES) throw new Error(`${path} is larger than ${MAX_PEM_BYTES} bytes`);
  try {
    return Deno.readTextFileSync(path);
  } catch (e) {
    throw new Error(`cannot read ${path}: ${whyUnreadable(e)}`);
  }
}

function whyUnreadable(e: unknown): string {
  if (e instanceof Deno.errors.NotFound) return "no such file";
  if (e instanceof Deno.errors.PermissionDenied) return "permission denied";
  if (e instanceof Deno.errors.NotCapable) return "not allowed (run with --allow-read)";
  return e instanceof Error ? e.message : String(e);
}
