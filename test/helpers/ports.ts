// A loopback port nobody listens on right now, for a server the tests start (PostgreSQL, Ceph, slapd)
// that cannot be told to take port 0 and report what it got.
import { createServer } from 'node:net';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}
