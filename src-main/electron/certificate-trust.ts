import { X509Certificate } from 'node:crypto';
import { normaliseFingerprint } from '../shared/invite-link.js';

/**
 * Trust for remote Chorus servers. A LAN server's certificate is self-signed,
 * so no CA vouches for it; the invite link does instead, by carrying the
 * certificate's SHA-256 fingerprint, which the app pins before joining. The
 * decision here is pure: main.ts feeds it what Chromium's verifier saw
 * (session.setCertificateVerifyProc) and applies the verdict.
 */

/** Electron's setCertificateVerifyProc results. */
export const VERIFY_ACCEPT = 0;
export const VERIFY_REFUSE = -2;
export const VERIFY_USE_CHROMIUM = -3;

export type TrustDecision =
  | { action: 'use-chromium' }
  | { action: 'accept'; reason: 'pinned' }
  | { action: 'refuse'; explanation: string };

const MAX_PINS = 256;

/** Host name as Chromium reports it: lower case, IPv6 without brackets. */
export function normaliseHostname(hostname: string): string {
  return hostname.trim().toLowerCase().replace(/^\[(.*)\]$/, '$1');
}

/** The SHA-256 fingerprint (colon-separated upper-case hex) of a PEM certificate, as the server prints it; undefined when unparsable. */
export function certificateFingerprint(pem: string): string | undefined {
  try {
    return new X509Certificate(pem).fingerprint256;
  } catch {
    return undefined;
  }
}

/** Pinned fingerprints by host name. Serialisable, so pins from invite links survive a restart. */
export class TrustedServers {
  private readonly pins = new Map<string, Set<string>>();

  /**
   * Pins `fingerprint` for the server at `serverUrl` (an https origin). Returns
   * an error message for bad input instead of throwing, so IPC can report it.
   * Pins are per host name, because that is all Chromium tells the verifier.
   */
  pin(serverUrl: string, fingerprint: string): { ok: true; hostname: string } | { ok: false; error: string } {
    let url: URL;
    try {
      url = new URL(serverUrl);
    } catch {
      return { ok: false, error: 'serverUrl is not a URL' };
    }
    if (url.protocol !== 'https:') return { ok: false, error: 'Only https servers can be pinned' };
    const fp = normaliseFingerprint(fingerprint);
    if (!fp) return { ok: false, error: 'fingerprint is not a SHA-256 fingerprint' };
    const hostname = normaliseHostname(url.hostname);
    if (!this.pins.has(hostname) && this.pins.size >= MAX_PINS) {
      // Forget the oldest host rather than grow without bound.
      const oldest = this.pins.keys().next().value;
      if (oldest !== undefined) this.pins.delete(oldest);
    }
    const set = this.pins.get(hostname) ?? new Set<string>();
    set.add(fp);
    this.pins.set(hostname, set);
    return { ok: true, hostname };
  }

  /** Removes one pin (the own server's addresses, when hosting stops). */
  unpin(hostname: string, fingerprint: string): void {
    const set = this.pins.get(normaliseHostname(hostname));
    set?.delete(fingerprint);
    if (set && set.size === 0) this.pins.delete(normaliseHostname(hostname));
  }

  fingerprintsFor(hostname: string): ReadonlySet<string> {
    return this.pins.get(normaliseHostname(hostname)) ?? new Set();
  }

  toJSON(): Record<string, string[]> {
    return Object.fromEntries([...this.pins].map(([host, fps]) => [host, [...fps]]));
  }

  /** Restores saved pins, skipping anything malformed. */
  static fromJSON(value: unknown): TrustedServers {
    const trusted = new TrustedServers();
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return trusted;
    for (const [host, fps] of Object.entries(value as Record<string, unknown>).slice(0, MAX_PINS)) {
      if (!Array.isArray(fps)) continue;
      for (const fp of fps) if (typeof fp === 'string') trusted.pin(`https://${host.includes(':') ? `[${host}]` : host}`, fp);
    }
    return trusted;
  }
}

export interface CertificateCheck {
  hostname: string;
  /** PEM of the leaf certificate the server presented. */
  certificatePem: string;
  /** Chromium's own verdict: 'OK', or an error name such as 'net::ERR_CERT_AUTHORITY_INVALID'. */
  verificationResult: string;
}

/**
 * - A certificate Chromium trusts (publicly trusted, or trusted by the OS) is
 *   accepted normally, pinned or not: a real server's certificate renews every
 *   few months and a pin must not break it.
 * - Otherwise, a certificate whose fingerprint is pinned for that host is
 *   accepted: the pin names exactly that certificate, which is a stronger
 *   check than a CA's name matching (the self-signed certificate does not list
 *   every LAN address the server has).
 * - Otherwise it is refused, with the reason a person can act on.
 */
export function decideCertificateTrust(check: CertificateCheck, trusted: TrustedServers): TrustDecision {
  if (check.verificationResult === 'OK' || check.verificationResult === 'net::OK') return { action: 'use-chromium' };
  const host = normaliseHostname(check.hostname);
  const presented = certificateFingerprint(check.certificatePem);
  const pinned = trusted.fingerprintsFor(host);
  if (presented && pinned.has(presented)) return { action: 'accept', reason: 'pinned' };
  if (pinned.size > 0) {
    return {
      action: 'refuse',
      explanation:
        `The server at ${host} presented a different certificate than the one in your invite link ` +
        `(expected ${[...pinned].join(' or ')}, got ${presented ?? 'an unreadable certificate'}). ` +
        'The server may have been reinstalled, or someone on the network may be intercepting the connection. ' +
        'Chorus did not connect. Ask the host for a new invite link.',
    };
  }
  return {
    action: 'refuse',
    explanation:
      `The server at ${host} uses a certificate that is not publicly trusted (${check.verificationResult}), ` +
      'and no invite link vouched for it. Chorus did not connect. Join with the invite link from the host: it carries the certificate fingerprint.',
  };
}

export function verifyProcResult(decision: TrustDecision): number {
  switch (decision.action) {
    case 'use-chromium':
      return VERIFY_USE_CHROMIUM;
    case 'accept':
      return VERIFY_ACCEPT;
    case 'refuse':
      return VERIFY_REFUSE;
    default: {
      const unknownDecision: never = decision;
      throw new Error(`unknown decision ${JSON.stringify(unknownDecision)}`);
    }
  }
}
