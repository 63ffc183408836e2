// Shared fixtures for the transport tests: loopback link pairs and a log sink.
import { connectLink, type ConnectLinkOptions } from '../../trainer/src/transport/client.ts';
import { listenLink, type LinkServer, type ListenLinkOptions } from '../../trainer/src/transport/server.ts';
import type { Link } from '../../trainer/src/transport/link-api.ts';

export const TOKEN = 'test-token-0123456789';

export interface LogEntry {
  level: string;
  message: string;
  fields: Record<string, unknown> | undefined;
}

/** An in-memory log sink (tests assert on logs through it, never stdout). */
export function logSink(): { entries: LogEntry[]; log: (level: string, message: string, fields?: Record<string, unknown>) => void } {
  const entries: LogEntry[] = [];
  return { entries, log: (level, message, fields) => entries.push({ level, message, fields }) };
}

export interface LinkPair {
  server: LinkServer;
  /** The client (upstream) end. */
  client: Link;
  /** The accepted (downstream) end. */
  accepted: Link;
  closeAll(): Promise<void>;
}

export async function linkPair(
  serverOptions: Partial<ListenLinkOptions> = {},
  clientOptions: Partial<ConnectLinkOptions> = {},
): Promise<LinkPair> {
  const server = await listenLink({ token: TOKEN, maxPayloadBytes: 1 << 20, ...serverOptions });
  const accepting = server.accept(5000);
  const client = await connectLink({ token: TOKEN, maxPayloadBytes: 1 << 20, url: `ws://127.0.0.1:${server.port}/`, ...clientOptions });
  const accepted = await accepting;
  return {
    server,
    client,
    accepted,
    closeAll: async () => {
      await Promise.all([client.close(), accepted.close()]);
      await server.close();
    },
  };
}
