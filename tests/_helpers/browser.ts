/**
 * Headless Chromium for the web dashboard's tests: Debian's `chromium`
 * (which `.ci/run` installs), driven through `npm:puppeteer-core`, which
 * never downloads a browser of its own.
 *
 * The browser is started with exactly the flags this machine needs (no
 * sandbox for root, no GPU, no QUIC, none of the background traffic a new
 * profile starts) and a fresh profile in a temporary directory, removed
 * when the browser is disposed. {@linkcode decodePng} checks the
 * screenshots it takes.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import { inflateSync } from "node:zlib";
import puppeteer, { type Browser } from "puppeteer-core";

/** Where Debian installs Chromium. */
export const CHROMIUM = "/usr/bin/chromium";

/** The flags every test browser runs with. */
export const CHROMIUM_FLAGS: readonly string[] = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** A running headless Chromium; disposing it closes it and removes its profile. */
export interface TestBrowser extends AsyncDisposable {
  readonly browser: Browser;
}

/**
 * Starts headless Chromium with a fresh profile.
 *
 * @throws when {@linkcode CHROMIUM} is missing, saying how to get it: the
 * browser tests fail rather than pass without having run
 */
export async function launchBrowser(): Promise<TestBrowser> {
  try {
    await Deno.stat(CHROMIUM);
  } catch {
    throw new Error(
      `${CHROMIUM} is missing: the web dashboard's browser tests need Debian's chromium ` +
        "(.ci/run installs it; by hand: apt-get install -y chromium)",
    );
  }
  const profile = await Deno.makeTempDir({ prefix: "aegis-chromium-" });
  try {
    const browser = await puppeteer.launch({
      executablePath: CHROMIUM,
      ignoreDefaultArgs: true,
      args: [...CHROMIUM_FLAGS, `--user-data-dir=${profile}`],
      defaultViewport: null,
    });
    return {
      browser,
      async [Symbol.asyncDispose]() {
        await browser.close();
        await Deno.remove(profile, { recursive: true });
      },
    };
  } catch (e) {
    await Deno.remove(profile, { recursive: true });
    throw e;
  }
}

/** What a PNG says of itself once decoded. */
export interface DecodedPng {
  readonly width: number;
  readonly height: number;
}

/**
 * Decodes a PNG far enough to trust it: the signature, the header, and the
 * image data inflated to exactly one filter byte plus `width` pixels per row.
 *
 * @throws when it is not an 8-bit RGB or RGBA PNG whose data has that size
 */
export function decodePng(bytes: Uint8Array): DecodedPng {
  const signature = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (!signature.every((b, i) => bytes[i] === b)) throw new Error("not a PNG signature");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let width = 0;
  let height = 0;
  let channels = 0;
  const data: Uint8Array[] = [];
  for (let at = 8; at + 8 <= bytes.length;) {
    const length = view.getUint32(at);
    const type = new TextDecoder().decode(bytes.subarray(at + 4, at + 8));
    const body = bytes.subarray(at + 8, at + 8 + length);
    if (type === "IHDR") {
      width = view.getUint32(at + 8);
      height = view.getUint32(at + 12);
      const [depth, color] = [body[8], body[9]];
      if (depth !== 8 || (color !== 2 && color !== 6)) throw new Error("not 8-bit RGB(A)");
      channels = color === 6 ? 4 : 3;
    } else if (type === "IDAT") data.push(body);
    else if (type === "IEND") break;
    at += 12 + length;
  }
  const pixels = inflateSync(Buffer.concat(data));
  if (pixels.length !== height * (1 + width * channels)) {
    throw new Error(`image data of ${pixels.length} bytes for ${width}×${height}`);
  }
  return { width, height };
}
