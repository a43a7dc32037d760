import { isIP } from 'node:net';
import { connect, type PeerCertificate } from 'node:tls';

/**
 * TLS to a Chorus server with a self-signed certificate, trusted only when its
 * SHA-256 fingerprint is the one the invite link carries. The certificate is
 * fetched once and then used as the only CA, so every later connection is
 * verified before a byte of the request (which carries join tokens) is sent.
 */
export interface PinnedTls {
  ca: string;
  checkServerIdentity(host: string, cert: PeerCertificate): Error | undefined;
}

const toPem = (raw: Buffer): string => `-----BEGIN CERTIFICATE-----\n${raw.toString('base64').match(/.{1,64}/g)!.join('\n')}\n-----END CERTIFICATE-----\n`;

export async function pinCertificate(serverUrl: string, fingerprint: string): Promise<PinnedTls> {
  const url = new URL(serverUrl);
  // A URL writes an IPv6 address in brackets, which a socket cannot resolve; and a name
  // (SNI) is sent only for a host name: RFC 6066 forbids an address there, and Node warns.
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const cert = await new Promise<PeerCertificate>((resolve, reject) => {
    // Only reads the certificate: nothing is sent over this connection.
    const socket = connect({ host, port: Number(url.port || 443), ...(isIP(host) ? {} : { servername: host }), rejectUnauthorized: false }, () => {
      const peer = socket.getPeerCertificate(true);
      socket.destroy();
      resolve(peer);
    });
    socket.once('error', reject);
  });
  if (cert.fingerprint256 !== fingerprint) {
    throw new Error(`The server at ${url.host} presents certificate ${cert.fingerprint256}, not ${fingerprint} from the link: refusing to connect`);
  }
  return {
    ca: toPem(cert.raw),
    // The chain is already limited to that one certificate; the name check is replaced by the fingerprint.
    checkServerIdentity: (_host, presented) =>
      presented.fingerprint256 === fingerprint ? undefined : new Error(`certificate ${presented.fingerprint256} does not match the pinned ${fingerprint}`),
  };
}
