/**
 * Reading the configuration file's bytes: only a regular file, only up to
 * {@linkcode MAX_CONFIG_BYTES}, only UTF-8 text. Everything that goes wrong
 * here is one {@linkcode ConfigFileError} with one line to print.
 *
 * @module
 */

import { concatBytes } from "../core/mod.ts";

/**
 * The largest configuration file Aegis reads: 1 MiB. Real files are a few
 * KiB; 1 MiB holds some 15,000 backends, and parses in well under a second,
 * far inside the time limit for checking a file.
 */
export const MAX_CONFIG_BYTES: number = 1024 * 1024;

/** The configuration file could not be read or checked at all. */
export class ConfigFileError extends Error {
  override name = "ConfigFileError";
}

/**
 * Reads `path` as UTF-8 text.
 *
 * @throws {ConfigFileError} when the file is missing, unreadable, not a
 * regular file, larger than {@linkcode MAX_CONFIG_BYTES} or not UTF-8
 */
export async function readConfigText(path: string): Promise<string> {
  const fail = (why: string) => new ConfigFileError(`cannot read config file ${path}: ${why}`);
  // [SECURITY] Hangs on special files: opening a FIFO blocks until a writer
  // comes, and a device can stream forever. Only a regular file (or a
  // symbolic link to one) is opened, checked before opening and again on the
  // open handle.
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path);
  } catch (e) {
    throw fail(describeFsError(e));
  }
  const notRegular = notRegularFile(info);
  if (notRegular) throw fail(notRegular);
  // [SECURITY] Memory and CPU exhaustion: a huge file is refused by its size
  // before it is read, and the read stops one byte past the limit, so a file
  // that grows (or lies about its size) is never read whole.
  if (info.size > MAX_CONFIG_BYTES) throw fail(tooLarge(info.size));
  let bytes: Uint8Array;
  try {
    using file = await Deno.open(path, { read: true });
    const opened = notRegularFile(await file.stat());
    if (opened) throw fail(opened);
    bytes = await readAtMost(file, MAX_CONFIG_BYTES + 1);
  } catch (e) {
    if (e instanceof ConfigFileError) throw e;
    throw fail(describeFsError(e));
  }
  if (bytes.length > MAX_CONFIG_BYTES) throw fail(tooLarge(undefined));
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw fail("not a UTF-8 text file");
  }
}

/** Why `info` is not a regular file, or `undefined` when it is one. */
function notRegularFile(info: Deno.FileInfo): string | undefined {
  if (info.isFile) return undefined;
  if (info.isDirectory) return "is a directory";
  if (info.isFifo) return "is a named pipe (FIFO), not a regular file";
  if (info.isSocket) return "is a socket, not a regular file";
  if (info.isCharDevice || info.isBlockDevice) return "is a device, not a regular file";
  return "is not a regular file";
}

function tooLarge(size: number | undefined): string {
  const limit = `more than the limit of ${MAX_CONFIG_BYTES} bytes (${MAX_CONFIG_BYTES >> 20} MiB)`;
  return size === undefined ? limit : `${size} bytes, ${limit}`;
}

/** Reads until end of file or until `limit` bytes, whichever comes first. */
async function readAtMost(file: Deno.FsFile, limit: number): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  while (total < limit) {
    const chunk = new Uint8Array(Math.min(65_536, limit - total));
    const n = await file.read(chunk);
    if (n === null) break;
    chunks.push(chunk.subarray(0, n));
    total += n;
  }
  return concatBytes(chunks, total);
}

function describeFsError(e: unknown): string {
  if (e instanceof Deno.errors.NotFound) return "no such file";
  if (e instanceof Deno.errors.PermissionDenied) return "permission denied";
  if (e instanceof Deno.errors.IsADirectory) return "is a directory";
  return e instanceof Error ? e.message : String(e);
}
