/**
 * Just enough DNS (RFC 1035 §4.1) to put a real query through a UDP relay:
 * build a query for an A record, answer it, and read the answer.
 *
 * @module
 */

/** A question: its id and name. */
export interface DnsQuestion {
  readonly id: number;
  readonly name: string;
}

/** A standard query (RD set) for the A record of `name` (RFC 1035 §4.1.1–4.1.2). */
export function dnsQuery(id: number, name: string): Uint8Array {
  const labels = name.split(".").flatMap((l) => [l.length, ...new TextEncoder().encode(l)]);
  const out = new Uint8Array(12 + labels.length + 1 + 4);
  const view = new DataView(out.buffer);
  view.setUint16(0, id);
  view.setUint16(2, 0x0100); // RD
  view.setUint16(4, 1); // QDCOUNT
  out.set(labels, 12);
  const q = 12 + labels.length + 1; // the root label's 0 is already there
  view.setUint16(q, 1); // QTYPE A
  view.setUint16(q + 2, 1); // QCLASS IN
  return out;
}

/** The id and name of a query, or undefined when it is not one this helper wrote. */
export function readQuestion(packet: Uint8Array): DnsQuestion | undefined {
  if (packet.length < 17) return undefined;
  const view = new DataView(packet.buffer, packet.byteOffset, packet.byteLength);
  if (view.getUint16(4) !== 1) return undefined;
  const labels: string[] = [];
  let at = 12;
  while (at < packet.length && packet[at] !== 0) {
    const len = packet[at]!;
    labels.push(new TextDecoder().decode(packet.subarray(at + 1, at + 1 + len)));
    at += 1 + len;
  }
  return { id: view.getUint16(0), name: labels.join(".") };
}

/** The answer to `query`: the question echoed, one A record `address` with a TTL of 60 s. */
export function dnsAnswer(query: Uint8Array, address: string): Uint8Array {
  const question = query.subarray(12);
  const out = new Uint8Array(12 + question.length + 16);
  const view = new DataView(out.buffer);
  out.set(query.subarray(0, 2), 0); // the id
  view.setUint16(2, 0x8180); // QR, RD, RA, NOERROR
  view.setUint16(4, 1); // QDCOUNT
  view.setUint16(6, 1); // ANCOUNT
  out.set(question, 12);
  const a = 12 + question.length;
  view.setUint16(a, 0xc00c); // name: pointer to the question's
  view.setUint16(a + 2, 1); // TYPE A
  view.setUint16(a + 4, 1); // CLASS IN
  view.setUint32(a + 6, 60); // TTL
  view.setUint16(a + 10, 4); // RDLENGTH
  out.set(address.split(".").map(Number), a + 12);
  return out;
}

/** The id, response code and A record addresses of a response. */
export function readAnswer(packet: Uint8Array): { id: number; rcode: number; addresses: string[] } {
  const view = new DataView(packet.buffer, packet.byteOffset, packet.byteLength);
  const id = view.getUint16(0);
  const rcode = view.getUint16(2) & 0xf;
  let at = 12;
  while (packet[at] !== 0) at += 1 + packet[at]!;
  at += 5; // root label, QTYPE, QCLASS
  const addresses: string[] = [];
  for (let n = view.getUint16(6); n > 0; n--) {
    const type = view.getUint16(at + 2);
    const length = view.getUint16(at + 10);
    if (type === 1) addresses.push([...packet.subarray(at + 12, at + 16)].join("."));
    at += 12 + length;
  }
  return { id, rcode, addresses };
}
