/**
 * A TCP proxy on 127.0.0.1 that can make a healthy peer sick: `blackhole()` accepts connections
 * and swallows every byte without ever answering (a hung database), `delay(ms)` holds each chunk
 * sent to the peer for `ms` (a slow one), `heal()` passes traffic straight through again.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';

export type FaultMode = { readonly kind: 'pass' } | { readonly kind: 'blackhole' } | { readonly kind: 'delay'; readonly ms: number };

export interface FaultProxy {
  /** `http://127.0.0.1:<port>` */
  readonly endpoint: string;
  /** Where traffic goes (`http://host:port`); may be set after the proxy started. */
  setTarget(endpoint: string): void;
  blackhole(): void;
  delay(ms: number): void;
  heal(): void;
  /** Connections accepted so far (a test can tell traffic went through it). */
  readonly connections: number;
  close(): Promise<void>;
}

export async function startFaultProxy(target?: string): Promise<FaultProxy> {
  let to = target ? new URL(target) : undefined;
  let mode: FaultMode = { kind: 'pass' };
  let connections = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    connections += 1;
    sockets.add(client);
    if (!to) {
      client.destroy();
      return;
    }
    const upstream = connect(Number(to.port), to.hostname);
    sockets.add(upstream);
    const forget = () => (sockets.delete(client), sockets.delete(upstream));
    client.on('data', (chunk) => {
      const m = mode;
      if (m.kind === 'blackhole') return; // swallowed: the peer never hears of it, the client never hears back
      if (m.kind === 'delay') setTimeout(() => upstream.writable && upstream.write(chunk), m.ms);
      else upstream.write(chunk);
    });
    upstream.on('data', (chunk) => client.writable && client.write(chunk));
    client.on('close', () => (upstream.destroy(), forget()));
    upstream.on('close', () => (client.destroy(), forget()));
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as { port: number }).port;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    setTarget: (endpoint) => (to = new URL(endpoint)),
    blackhole: () => (mode = { kind: 'blackhole' }),
    delay: (ms) => (mode = { kind: 'delay', ms }),
    heal: () => (mode = { kind: 'pass' }),
    get connections() {
      return connections;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
