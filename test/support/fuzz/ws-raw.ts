// A WebSocket client written by hand on a raw TCP socket, so the fuzzer controls every byte: the
// upgrade request (with or without the token), ws frame headers that lie, masking, fragmentation,
// and how the bytes are cut into TCP writes (split or coalesced).
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';

export interface RawConnection {
  socket: Socket;
  /** HTTP status of the upgrade answer (101 when upgraded). */
  status: number;
  /** Resolves when the socket has closed: the close code the server sent, if any. */
  closed: Promise<{ serverCloseCode: number | undefined }>;
}

/** Opens a TCP connection and sends the upgrade request; `authorization` undefined sends none. */
export function rawUpgrade(port: number, authorization: string | undefined): Promise<RawConnection> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1', noDelay: true });
    let head = Buffer.alloc(0);
    let upgraded = false;
    let serverCloseCode: number | undefined;
    let pending = Buffer.alloc(0);
    const closed = new Promise<{ serverCloseCode: number | undefined }>((done) => socket.once('close', () => done({ serverCloseCode })));
    socket.on('error', (error) => {
      if (!upgraded) reject(error);
    });
    const onFrames = (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      for (;;) {
        const frame = parseServerFrame(pending);
        if (!frame) return;
        pending = pending.subarray(frame.size);
        if (frame.opcode === 0x8) {
          serverCloseCode = frame.payload.length >= 2 ? frame.payload.readUInt16BE(0) : 1005;
          // Answer the close as a well-behaved peer does, so the server closes the TCP socket at once.
          if (!socket.destroyed) socket.end(clientFrame({ opcode: 0x8, payload: frame.payload.subarray(0, 2) }));
        }
      }
    };
    socket.on('data', (chunk: Buffer) => {
      if (upgraded) return onFrames(chunk);
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head.subarray(0, end).toString('latin1'))?.[1] ?? 0);
      upgraded = true;
      resolve({ socket, status, closed });
      const rest = head.subarray(end + 4);
      if (rest.length > 0 && status === 101) onFrames(rest);
    });
    socket.once('connect', () => {
      const lines = [
        'GET / HTTP/1.1', 'Host: 127.0.0.1', 'Upgrade: websocket', 'Connection: Upgrade',
        `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`, 'Sec-WebSocket-Version: 13',
        ...(authorization === undefined ? [] : [`Authorization: ${authorization}`]),
      ];
      socket.write(`${lines.join('\r\n')}\r\n\r\n`);
    });
  });
}

export interface ClientFrameOptions {
  opcode: number;
  payload: Buffer;
  /** Default true. */
  fin?: boolean;
  /** RSV1..3 bits (0..7). Default 0. */
  rsv?: number;
  /** Default true: clients must mask. */
  masked?: boolean;
  /** The length the header claims; default the payload's (a lie when different). */
  claimedLength?: number;
  /** Masking key; default random. */
  maskKey?: Buffer;
}

/** One client-to-server ws frame, exactly as given (RFC 6455 §5.2). */
export function clientFrame(options: ClientFrameOptions): Buffer {
  const { opcode, payload } = options;
  const fin = options.fin ?? true;
  const masked = options.masked ?? true;
  const length = options.claimedLength ?? payload.length;
  const head: number[] = [(fin ? 0x80 : 0) | ((options.rsv ?? 0) << 4) | opcode];
  const maskBit = masked ? 0x80 : 0;
  let extended = Buffer.alloc(0);
  if (length < 126) head.push(maskBit | length);
  else if (length < 0x1_0000) {
    head.push(maskBit | 126);
    extended = Buffer.alloc(2);
    extended.writeUInt16BE(length);
  } else {
    head.push(maskBit | 127);
    extended = Buffer.alloc(8);
    extended.writeUInt32BE(Math.floor(length / 2 ** 32), 0);
    extended.writeUInt32BE(length % 2 ** 32, 4);
  }
  if (!masked) return Buffer.concat([Buffer.from(head), extended, payload]);
  const key = options.maskKey ?? randomBytes(4);
  const body = Buffer.from(payload);
  for (let i = 0; i < body.length; i++) body[i]! ^= key[i & 3]!;
  return Buffer.concat([Buffer.from(head), extended, key, body]);
}

/** A complete server frame at the start of `bytes` (servers never mask), or undefined if incomplete. */
function parseServerFrame(bytes: Buffer): { opcode: number; payload: Buffer; size: number } | undefined {
  if (bytes.length < 2) return undefined;
  let length = bytes[1]! & 0x7f;
  let offset = 2;
  if (length === 126) {
    if (bytes.length < 4) return undefined;
    length = bytes.readUInt16BE(2);
    offset = 4;
  } else if (length === 127) {
    if (bytes.length < 10) return undefined;
    length = bytes.readUInt32BE(2) * 2 ** 32 + bytes.readUInt32BE(6);
    offset = 10;
  }
  if (bytes.length < offset + length) return undefined;
  return { opcode: bytes[0]! & 0x0f, payload: bytes.subarray(offset, offset + length), size: offset + length };
}

/** Writes `bytes` in the given pieces, yielding to the event loop between them (split chunks). */
export async function writeInPieces(socket: Socket, bytes: Buffer, pieceSizes: number[]): Promise<void> {
  let offset = 0;
  for (const size of pieceSizes) {
    if (offset >= bytes.length || socket.destroyed) break;
    socket.write(bytes.subarray(offset, offset + size));
    offset += size;
    await new Promise((resolve) => setImmediate(resolve));
  }
  if (offset < bytes.length && !socket.destroyed) socket.write(bytes.subarray(offset));
}
