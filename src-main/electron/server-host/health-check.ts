import { request } from 'node:https';
import type { TLSSocket } from 'node:tls';
import type { HostedServerInfo } from './messages.js';

/**
 * `GET /health` against the embedded server over TLS. The server's certificate
 * is self-signed, so instead of a CA the check pins the fingerprint the server
 * reported: it talks only to our own server, never to whatever took the port.
 * Resolves false (never throws) on any failure or after `timeoutMs`.
 */
export function checkServerHealth(info: Pick<HostedServerInfo, 'localUrl' | 'fingerprint'>, timeoutMs = 3_000): Promise<boolean> {
  return new Promise((resolve) => {
    let settled = false;
    const settle = (healthy: boolean): void => {
      if (settled) return;
      settled = true;
      resolve(healthy);
    };
    let url: URL;
    try {
      url = new URL('/health', info.localUrl);
    } catch {
      settle(false);
      return;
    }
    const req = request(
      url,
      {
        method: 'GET',
        timeout: timeoutMs,
        // The chain is self-signed by design; identity is the pinned fingerprint, checked on secureConnect.
        rejectUnauthorized: false,
        agent: false,
      },
      (res) => {
        res.resume();
        res.on('end', () => settle(res.statusCode === 200));
        res.on('error', () => settle(false));
      },
    );
    req.on('socket', (socket) => {
      // Before any response is read: a different certificate means a different server.
      socket.once('secureConnect', () => {
        const cert = (socket as TLSSocket).getPeerCertificate();
        if (cert.fingerprint256 !== info.fingerprint) {
          settle(false);
          req.destroy();
        }
      });
    });
    req.on('timeout', () => {
      settle(false);
      req.destroy();
    });
    req.on('error', () => settle(false));
    req.end();
  });
}
