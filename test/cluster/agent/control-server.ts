// The agent's fault-injection server on a unix socket (the client is ../control.ts): list pods,
// stop or start a node, partition or heal a pod, signal a pod's process.
import { rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { errorMessage } from '../util.ts';

export interface ControlTarget {
  pods(): unknown[];
  stopNode(name: string): Promise<void>;
  startNode(name: string): Promise<void>;
  setPodNetwork(namespace: string, name: string, up: boolean): Promise<void>;
  killPod(namespace: string, name: string, signal: NodeJS.Signals): Promise<number>;
}

interface ControlArgs {
  name?: string;
  namespace?: string;
  signal?: NodeJS.Signals;
}

export function startControlServer(socketPath: string, target: ControlTarget): Promise<{ close(): unknown }> {
  rmSync(socketPath, { force: true });
  const server = createServer((req, res) => void handleControl(target, req, res));
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => resolve(server));
  });
}

async function handleControl(target: ControlTarget, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const reply = (code: number, value: unknown): void => {
    res.writeHead(code, { 'content-type': 'application/json' });
    res.end(JSON.stringify(value));
  };
  try {
    let body = '';
    for await (const chunk of req) body += (chunk as Buffer).toString();
    const args = (body ? JSON.parse(body) : {}) as ControlArgs;
    switch (req.url) {
      case '/healthz':
        return reply(200, { ok: true });
      case '/pods':
        return reply(200, target.pods());
      case '/stop-node':
        await target.stopNode(args.name ?? '');
        return reply(200, { ok: true });
      case '/start-node':
        await target.startNode(args.name ?? '');
        return reply(200, { ok: true });
      case '/partition-pod':
        await target.setPodNetwork(args.namespace ?? '', args.name ?? '', false);
        return reply(200, { ok: true });
      case '/heal-pod':
        await target.setPodNetwork(args.namespace ?? '', args.name ?? '', true);
        return reply(200, { ok: true });
      case '/kill-pod':
        return reply(200, { pid: await target.killPod(args.namespace ?? '', args.name ?? '', args.signal ?? 'SIGKILL') });
      default:
        return reply(404, { error: `unknown ${req.url}` });
    }
  } catch (err) {
    reply(500, { error: errorMessage(err) });
  }
}
