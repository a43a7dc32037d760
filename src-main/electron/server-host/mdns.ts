import BonjourModule from 'bonjour-service';
import type { DiscoveredServer } from '../../shared/desktop-api.js';
import { normaliseFingerprint } from '../../shared/invite-link.js';
import { TypedEmitter } from '../../shared/typed-emitter.js';

/**
 * LAN discovery of hosted Chorus servers over mDNS / DNS-SD: a host advertises
 * `_chorus._tcp` with TXT { fp, v }, and every desktop app browses for it. The
 * record mapping is pure (serviceTxt, serverFromService); the rest wires it to
 * bonjour-service (pure JS, on multicast UDP 5353).
 */

export const CHORUS_SERVICE_TYPE = 'chorus';
/** TXT format version, so a later format can be told apart. */
export const CHORUS_TXT_VERSION = '1';

// bonjour-service is CommonJS with `export =`; its default import is the class itself.
const Bonjour = BonjourModule as unknown as typeof BonjourModule.Bonjour;
type BonjourInstance = InstanceType<typeof Bonjour>;

export interface ChorusTxt {
  fp: string;
  v: string;
}

export function serviceTxt(fingerprint: string): ChorusTxt {
  return { fp: fingerprint, v: CHORUS_TXT_VERSION };
}

/** The subset of a resolved DNS-SD service the mapping needs. */
export interface ResolvedService {
  name: string;
  port: number;
  addresses?: string[];
  txt?: unknown;
  referer?: { address: string };
}

function isUsableIpv4(address: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(address) && !address.startsWith('169.254.');
}

/**
 * Maps an announced service to a server the user can join. The address is the
 * first routable IPv4 one (the server binds IPv4), else the packet's sender. A
 * TXT fingerprint that is not a SHA-256 fingerprint is dropped rather than
 * trusted; TXT from another format version is still listed, without it.
 */
export function serverFromService(service: ResolvedService): DiscoveredServer | undefined {
  if (!Number.isInteger(service.port) || service.port <= 0 || service.port > 65535) return undefined;
  const address = (service.addresses ?? []).find(isUsableIpv4) ?? (service.referer && isUsableIpv4(service.referer.address) ? service.referer.address : undefined);
  if (!address) return undefined;
  const name = typeof service.name === 'string' && service.name.length > 0 ? service.name.slice(0, 63) : address;
  const server: DiscoveredServer = { name, serverUrl: `https://${address}:${service.port}` };
  const txt = typeof service.txt === 'object' && service.txt !== null ? (service.txt as Record<string, unknown>) : {};
  const fp = txt.v === CHORUS_TXT_VERSION && typeof txt.fp === 'string' ? normaliseFingerprint(txt.fp) : undefined;
  if (fp) server.fingerprint = fp;
  return server;
}

export interface Advertisement {
  stop(): Promise<void>;
}

/** Announces this machine's server until stop(). Errors (no multicast, port 5353 refused) go to onError, never thrown. */
export function advertiseChorus(options: { name: string; port: number; fingerprint: string; onError: (error: Error) => void }): Advertisement {
  const bonjour: BonjourInstance = new Bonjour({}, (error: Error) => options.onError(error));
  const service = bonjour.publish({
    name: options.name,
    type: CHORUS_SERVICE_TYPE,
    protocol: 'tcp',
    port: options.port,
    txt: serviceTxt(options.fingerprint),
    disableIPv6: true,
  });
  service.on('error', (error: Error) => options.onError(error));
  let stopping: Promise<void> | undefined;
  return {
    stop: () =>
      (stopping ??= new Promise<void>((resolve) => {
        // Unpublishing sends the goodbye packets so browsers drop us at once. Without a
        // working multicast socket its callback may never come, so stopping is capped.
        const cap = setTimeout(() => {
          bonjour.destroy();
          resolve();
        }, 2_000);
        bonjour.unpublishAll(() =>
          bonjour.destroy(() => {
            clearTimeout(cap);
            resolve();
          }),
        );
      })),
  };
}

export interface ServerBrowserEvents extends Record<string, unknown> {
  servers: DiscoveredServer[];
}

/** Browses for `_chorus._tcp` and keeps the current list; emits the whole list on every change. */
export class ServerBrowser extends TypedEmitter<ServerBrowserEvents> {
  private readonly bonjour: BonjourInstance;
  private readonly found = new Map<string, DiscoveredServer>();
  private closed = false;

  constructor(onError: (error: Error) => void) {
    super((error) => onError(error instanceof Error ? error : new Error(String(error))));
    this.bonjour = new Bonjour({}, (error: Error) => onError(error));
    const browser = this.bonjour.find({ type: CHORUS_SERVICE_TYPE, protocol: 'tcp' });
    const key = (service: { fqdn: string }): string => service.fqdn;
    const update = (service: ResolvedService & { fqdn: string }): void => {
      const server = serverFromService(service);
      if (server) this.found.set(key(service), server);
      else this.found.delete(key(service));
      this.emit('servers', this.list());
    };
    browser.on('up', update);
    browser.on('txt-update', update);
    browser.on('srv-update', update);
    browser.on('down', (service) => {
      if (this.found.delete(key(service))) this.emit('servers', this.list());
    });
  }

  list(): DiscoveredServer[] {
    return [...this.found.values()].sort((a, b) => a.name.localeCompare(b.name) || a.serverUrl.localeCompare(b.serverUrl));
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.removeAllListeners();
    this.bonjour.destroy();
  }
}
