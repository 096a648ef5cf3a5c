/**
 * Bearer-token checks for the admin API's mutating endpoints, compared in
 * constant time: both sides are hashed first, so neither the position of
 * the first wrong byte nor the token's length shows in the timing.
 *
 * @module
 */

const encoder = new TextEncoder();

async function digest(text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(text)));
}

/**
 * True when `authorization` is `Bearer <token>`. An empty configured token
 * means no token is required.
 */
export async function authorized(authorization: string | null, token: string): Promise<boolean> {
  if (token === "") return true;
  // [SECURITY] Timing side channel: both sides are hashed to one length and
  // compared without an early exit.
  const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? "");
  const given = await digest(m?.[1] ?? "");
  const expected = await digest(token);
  let diff = m ? 0 : 1;
  for (let i = 0; i < expected.length; i++) diff |= given[i]! ^ expected[i]!;
  return diff === 0;
}
