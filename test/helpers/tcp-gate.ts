// A TCP forwarder on 127.0.0.1:0 in front of a server (PostgreSQL here) that a test can make hang, as a network
// partition does: `hang()` cuts the open connections and accepts new ones without ever forwarding a byte;
// `open()` forwards again.
import { connect, createServer, type Socket } from 'node:net';

export type TcpGate = { port: number; hang(): void; open(): void; close(): Promise<void> };

export async function tcpGate(targetHost: string, targetPort: number): Promise<TcpGate> {
  let hung = false;
  const sockets = new Set<Socket>();
  const track = (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => s.destroy());
  };
  const server = createServer((client) => {
    track(client);
    if (hung) return;
    const upstream = connect(targetPort, targetHost);
    track(upstream);
    client.pipe(upstream).pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as { port: number }).port,
    hang() {
      hung = true;
      for (const s of sockets) s.destroy();
    },
    open() {
      hung = false;
      for (const s of sockets) s.destroy();
    },
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}
