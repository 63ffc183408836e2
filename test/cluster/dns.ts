// A tiny authoritative DNS server for the test cluster's `cluster.local` zone (UDP, A records only).
// It never forwards: any name outside the zone gets NXDOMAIN, so pods cannot resolve outside names.
import { createSocket, type Socket } from 'node:dgram';

const TYPE_A = 1;
const CLASS_IN = 1;
const RCODE_NXDOMAIN = 3;
const RCODE_NOTIMP = 4;

/** Returns the IPv4 addresses of a lower-case name without the trailing dot, or undefined for NXDOMAIN. */
export type Resolve = (name: string) => string[] | undefined;

interface Question {
  name: string;
  type: number;
  klass: number;
  end: number;
}

function readQuestion(msg: Buffer): Question | undefined {
  let offset = 12;
  const labels: string[] = [];
  for (;;) {
    const len = msg[offset];
    if (len === undefined || len > 63) return undefined; // no compression in questions we accept
    offset += 1;
    if (len === 0) break;
    labels.push(msg.subarray(offset, offset + len).toString('latin1'));
    offset += len;
  }
  if (offset + 4 > msg.length) return undefined;
  return { name: labels.join('.').toLowerCase(), type: msg.readUInt16BE(offset), klass: msg.readUInt16BE(offset + 2), end: offset + 4 };
}

/** Builds the response for one query message (exported for unit tests). */
export function answer(query: Buffer, resolve: Resolve, ttl = 5): Buffer | undefined {
  if (query.length < 12) return undefined;
  const id = query.readUInt16BE(0);
  const flags = query.readUInt16BE(2);
  if (flags & 0x8000) return undefined; // a response, not a query
  const qdcount = query.readUInt16BE(4);
  const question = qdcount === 1 ? readQuestion(query) : undefined;
  const header = Buffer.alloc(12);
  header.writeUInt16BE(id, 0);
  // QR=1, opcode copied, AA=1, RD copied, RA=0
  const base = 0x8000 | (flags & 0x7800) | 0x0400 | (flags & 0x0100);
  if (!question || ((flags >> 11) & 0xf) !== 0) {
    header.writeUInt16BE(base | RCODE_NOTIMP, 2);
    return header;
  }
  const qsection = query.subarray(12, question.end);
  const ips = question.klass === CLASS_IN ? resolve(question.name) : undefined;
  header.writeUInt16BE(1, 4);
  if (!ips) {
    header.writeUInt16BE(base | RCODE_NXDOMAIN, 2);
    return Buffer.concat([header, qsection]);
  }
  const answers = question.type === TYPE_A ? ips : []; // AAAA and others: NOERROR without data
  header.writeUInt16BE(base, 2);
  header.writeUInt16BE(answers.length, 6);
  const records = answers.map((ip) => {
    const rr = Buffer.alloc(16);
    rr.writeUInt16BE(0xc00c, 0); // pointer to the question name
    rr.writeUInt16BE(TYPE_A, 2);
    rr.writeUInt16BE(CLASS_IN, 4);
    rr.writeUInt32BE(ttl, 6);
    rr.writeUInt16BE(4, 10);
    ip.split('.').forEach((octet, i) => rr.writeUInt8(Number(octet), 12 + i));
    return rr;
  });
  return Buffer.concat([header, qsection, ...records]);
}

/** Starts the server on `host:port` (UDP). */
export function startDnsServer(host: string, port: number, resolve: Resolve): Promise<Socket> {
  return new Promise((done, fail) => {
    const socket = createSocket('udp4');
    socket.on('message', (msg, rinfo) => {
      let reply: Buffer | undefined;
      try {
        reply = answer(msg, resolve);
      } catch {
        reply = undefined;
      }
      if (reply) socket.send(reply, rinfo.port, rinfo.address);
    });
    socket.once('error', fail);
    socket.bind(port, host, () => {
      socket.off('error', fail);
      socket.on('error', () => undefined);
      done(socket);
    });
  });
}
