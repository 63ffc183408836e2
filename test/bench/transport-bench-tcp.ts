// Raw TCP baseline for the transport bench: messages framed by a 4-byte little-endian length prefix.
import { once } from 'node:events';
import type { Socket } from 'node:net';

/** Writes one length-prefixed message, waiting for 'drain' when the socket buffer is full. */
export async function writeLengthPrefixed(socket: Socket, payload: Uint8Array): Promise<void> {
  const prefix = Buffer.allocUnsafe(4);
  prefix.writeUInt32LE(payload.byteLength, 0);
  socket.write(prefix);
  if (!socket.write(payload)) await once(socket, 'drain');
}

/**
 * Reads length-prefixed messages, each assembled into one contiguous Buffer (as ws does), and calls
 * onMessage for each. Returns a detach function.
 */
export function readLengthPrefixed(socket: Socket, onMessage: (message: Buffer) => void): () => void {
  let chunks: Buffer[] = [];
  let buffered = 0;
  let expected = -1; // payload length of the message being read, -1 while reading the prefix

  const take = (n: number): Buffer => {
    // Removes n bytes from the front of the chunk list; concatenates only when they span chunks.
    const first = chunks[0] as Buffer;
    if (first.length >= n) {
      const out = first.subarray(0, n);
      if (first.length === n) chunks.shift();
      else chunks[0] = first.subarray(n);
      buffered -= n;
      return out;
    }
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const chunk = chunks[0] as Buffer;
      const used = Math.min(chunk.length, n - filled);
      chunk.copy(out, filled, 0, used);
      filled += used;
      if (used === chunk.length) chunks.shift();
      else chunks[0] = chunk.subarray(used);
    }
    buffered -= n;
    return out;
  };

  const onData = (chunk: Buffer): void => {
    chunks.push(chunk);
    buffered += chunk.length;
    for (;;) {
      if (expected < 0) {
        if (buffered < 4) return;
        expected = take(4).readUInt32LE(0);
      }
      if (buffered < expected) return;
      const message = take(expected);
      expected = -1;
      onMessage(message);
    }
  };
  socket.on('data', onData);
  return () => {
    socket.off('data', onData);
    chunks = [];
  };
}
