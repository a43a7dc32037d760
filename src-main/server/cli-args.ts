import { homedir } from 'node:os';
import { join } from 'node:path';
import { LISTED_PASSCODE_MIN } from '../shared/app-api.js';
import type { ChorusServerConfig } from './chorus-server.js';
import { ChorusError } from './errors.js';
import type { ConnectionLimits } from './http/connection-limits.js';
import { normalizeOrigin } from './http/websocket-admission.js';
import { parseLogLevel, type LogLevel } from './logger.js';

export interface CliOptions {
  config: ChorusServerConfig;
  logLevel: LogLevel;
  help: boolean;
  /** `--meeting NAME [--passcode CODE]`: an app meeting created at startup, its invite link printed. */
  meeting?: { name: string; passcode?: string };
}

export const USAGE = `Usage: npm run server -- [options]

  --host HOST              interface to bind (default 127.0.0.1; 0.0.0.0 for every LAN interface)
  --port PORT              TCP port (default 8080; 0 picks a free port)
  --public-url URL         base URL advertised to clients (default: derived from the bound interface)
  --tls                    serve HTTPS/WSS on loopback too (non-loopback binds always use TLS)
  --tls-cert FILE          PEM certificate to use instead of the generated self-signed one
  --tls-key FILE           PEM private key for --tls-cert
  --ice-host ADDR          the one local address ICE offers (default: every interface)
  --udp-port PORT          the UDP port all media shares (default: the TCP port's number; 0: one per connection)
  --data-dir DIR           where credentials and the TLS certificate are kept (default ~/.chorus)
  --max-meetings N         active meetings allowed at once (default 100)
  --no-join-timeout SEC    end a meeting nobody joined after SEC seconds (default 300)
  --empty-timeout SEC      end a meeting everyone left after SEC seconds (default 300)
  --max-duration SEC       end any meeting after SEC seconds (default 86400)
  --log-level LEVEL        debug, info, warn or error (default info)
  --meeting NAME           create a meeting at startup and print its invite link and host link
  --passcode CODE          passcode for --meeting: 8-32 characters, or 4-32 with --unlisted
  --unlisted               list meetings only to the host's bearer token, not to everyone (listed by default);
                           a listed meeting's passcode needs at least 8 characters, an unlisted one's 4
  --allow-web-hosting      let anyone who can open the web app create meetings (off by default)
  --max-web-meetings N     meetings started from the web without the bearer token, on top of --max-meetings (default 20)
  --max-egress-mbps N      cap all the video this host sends at N Mbit/s, shared fairly by every viewer;
                           videos that do not fit a viewer's share are paused for it (default: no cap)
  --max-joins-per-address N  app joins without the host key per client address per minute (default 30;
                           raise it when many people join from behind one NAT address)
  --webhook-url URL        POST every meeting event to URL, signed; repeat for several receivers
  --webhook-max-backoff SEC  longest wait between webhook retries (default 60)
  --header-timeout SEC     a connection must send request headers (or finish TLS) within SEC (default 10)
  --request-timeout SEC    a whole request, body included, within SEC (default 30)
  --idle-timeout SEC       close an HTTP connection silent for SEC (default 60)
  --join-timeout SEC       a signaling WebSocket must send JOIN within SEC (default 45)
  --max-connections N      open connections in all; past it requests get 503 (default: from the descriptor limit, at most 4096)
  --max-connections-per-address N  open connections per client address (default: half of --max-connections, at most 512)
  --max-sockets-per-token N  open signaling WebSockets per join token (default 4)
  --allowed-origin ORIGIN  a web origin, besides the server's own and app://chorus, that may open signaling WebSockets; repeatable
  --help                   show this text

Environment: CHORUS_ACCESS_KEY_ID and CHORUS_SECRET_ACCESS_KEY set the API key pair;
CHORUS_DATA_DIR sets the default data directory; CHORUS_WEBHOOK_SECRET sets the webhook signing key.`;

const FLAGS = new Set(['--tls', '--help', '--allow-web-hosting', '--unlisted']);
const VALUED = new Set([
  '--host', '--port', '--public-url', '--tls-cert', '--tls-key', '--data-dir', '--max-meetings',
  '--no-join-timeout', '--empty-timeout', '--max-duration', '--log-level', '--ice-host', '--udp-port',
  '--meeting', '--passcode', '--webhook-max-backoff',
  '--header-timeout', '--request-timeout', '--idle-timeout', '--join-timeout',
  '--max-connections', '--max-connections-per-address', '--max-sockets-per-token', '--max-web-meetings', '--max-joins-per-address',
  '--max-egress-mbps',
]);
/** Options that may be given more than once. */
const REPEATABLE = new Set(['--webhook-url', '--allowed-origin']);

function invalid(message: string): ChorusError {
  return new ChorusError('CONFIG_INVALID', `${message}\n\n${USAGE}`);
}

function integer(flag: string, value: string, min: number, max: number): number {
  const n = /^\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) throw invalid(`${flag} must be an integer from ${min} to ${max}, got '${value}'`);
  return n;
}

/** Parses the headless server's command line. Pure: the environment is passed in. */
export function parseCliArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): CliOptions {
  const values = new Map<string, string>();
  const repeated = new Map<string, string[]>();
  const flags = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const raw = argv[i]!;
    const eq = raw.indexOf('=');
    const name = raw.startsWith('--') && eq > 0 ? raw.slice(0, eq) : raw;
    if (FLAGS.has(name)) {
      flags.add(name);
    } else if (REPEATABLE.has(name)) {
      const value = eq > 0 && raw.startsWith('--') ? raw.slice(eq + 1) : argv[++i];
      if (value === undefined || value === '') throw invalid(`${name} needs a value`);
      repeated.set(name, [...(repeated.get(name) ?? []), value]);
    } else if (VALUED.has(name)) {
      const value = eq > 0 && raw.startsWith('--') ? raw.slice(eq + 1) : argv[++i];
      if (value === undefined || value === '') throw invalid(`${name} needs a value`);
      values.set(name, value);
    } else {
      throw invalid(`Unknown option '${raw}'`);
    }
  }

  const publicUrl = values.get('--public-url');
  if (publicUrl !== undefined) {
    let parsed: URL;
    try {
      parsed = new URL(publicUrl);
    } catch {
      throw invalid(`--public-url '${publicUrl}' is not a URL`);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw invalid('--public-url must be an http:// or https:// URL');
  }
  const logLevelText = values.get('--log-level') ?? 'info';
  const logLevel = parseLogLevel(logLevelText);
  if (!logLevel) throw invalid(`--log-level must be debug, info, warn or error, got '${logLevelText}'`);
  const meetingName = values.get('--meeting');
  const passcode = values.get('--passcode');
  if (meetingName !== undefined && [...meetingName].length > 64) throw invalid('--meeting must be at most 64 characters');
  if (passcode !== undefined) {
    if (meetingName === undefined) throw invalid('--passcode needs --meeting');
    if ([...passcode].length < 4 || [...passcode].length > 32) throw invalid('--passcode must be 4 to 32 characters');
    if (!flags.has('--unlisted') && [...passcode].length < LISTED_PASSCODE_MIN) {
      throw invalid(`--passcode must be at least ${LISTED_PASSCODE_MIN} characters: meetings are listed to anyone who can reach the server (or add --unlisted)`);
    }
  }
  const webhookUrls = repeated.get('--webhook-url') ?? [];
  for (const url of webhookUrls) {
    let parsed: URL | undefined;
    try {
      parsed = new URL(url);
    } catch {
      parsed = undefined;
    }
    if (!parsed || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')) throw invalid(`--webhook-url '${url}' is not an http:// or https:// URL`);
  }
  const seconds = (flag: string, fallback: number): number => integer(flag, values.get(flag) ?? String(fallback), 1, 7 * 86400) * 1000;
  const allowedOrigins = repeated.get('--allowed-origin') ?? [];
  for (const origin of allowedOrigins) {
    if (!normalizeOrigin(origin) || normalizeOrigin(origin) !== origin.toLowerCase().replace(/\/$/, '')) {
      throw invalid(`--allowed-origin '${origin}' is not an origin like https://app.example.com or http://host:8080`);
    }
  }
  const limits: Partial<ConnectionLimits> = {};
  const optional = (flag: string, min: number, max: number): number | undefined => (values.has(flag) ? integer(flag, values.get(flag)!, min, max) : undefined);
  const set = <K extends keyof ConnectionLimits>(key: K, value: ConnectionLimits[K] | undefined): void => {
    if (value !== undefined) limits[key] = value;
  };
  const ms = (flag: string, max: number): number | undefined => {
    const n = optional(flag, 1, max);
    return n === undefined ? undefined : n * 1000;
  };
  // The TLS handshake is the first thing a connection must finish, with the same deadline as the headers.
  set('headersTimeoutMs', ms('--header-timeout', 3600));
  set('tlsHandshakeTimeoutMs', ms('--header-timeout', 3600));
  set('requestTimeoutMs', ms('--request-timeout', 3600));
  set('idleTimeoutMs', ms('--idle-timeout', 86400));
  set('joinTimeoutMs', ms('--join-timeout', 3600));
  set('maxConnections', optional('--max-connections', 1, 1_000_000));
  set('maxConnectionsPerAddress', optional('--max-connections-per-address', 1, 1_000_000));
  set('maxSocketsPerToken', optional('--max-sockets-per-token', 1, 1000));
  if (allowedOrigins.length > 0) limits.allowedOrigins = allowedOrigins;

  return {
    help: flags.has('--help'),
    logLevel,
    ...(meetingName !== undefined ? { meeting: { name: meetingName, ...(passcode !== undefined ? { passcode } : {}) } } : {}),
    config: {
      host: values.get('--host') ?? '127.0.0.1',
      port: integer('--port', values.get('--port') ?? '8080', 0, 65535),
      publicUrl,
      tls: flags.has('--tls'),
      tlsCertFile: values.get('--tls-cert'),
      allowWebHosting: flags.has('--allow-web-hosting'),
      ...(flags.has('--unlisted') ? { unlisted: true } : {}),
      tlsKeyFile: values.get('--tls-key'),
      dataDir: values.get('--data-dir') ?? env.CHORUS_DATA_DIR ?? join(homedir(), '.chorus'),
      iceHost: values.get('--ice-host'),
      udpPort: values.has('--udp-port') ? integer('--udp-port', values.get('--udp-port')!, 0, 65535) : undefined,
      maxActiveMeetings: integer('--max-meetings', values.get('--max-meetings') ?? '100', 1, 100_000),
      ...(values.has('--max-joins-per-address') ? { appLimits: { joinsPerAddress: integer('--max-joins-per-address', values.get('--max-joins-per-address')!, 1, 1_000_000) } } : {}),
      ...(values.has('--max-egress-mbps') ? { maxEgressMbps: integer('--max-egress-mbps', values.get('--max-egress-mbps')!, 0, 100_000) } : {}),
      ...(values.has('--max-web-meetings') ? { maxWebHostedMeetings: integer('--max-web-meetings', values.get('--max-web-meetings')!, 0, 100_000) } : {}),
      ...(webhookUrls.length > 0 ? { webhookUrls } : {}),
      ...(Object.keys(limits).length > 0 ? { limits } : {}),
      ...(values.has('--webhook-max-backoff') ? { webhookRetry: { maxBackoffMs: integer('--webhook-max-backoff', values.get('--webhook-max-backoff')!, 1, 86400) * 1000 } } : {}),
      lifecycle: {
        noJoinMs: seconds('--no-join-timeout', 300),
        emptyMs: seconds('--empty-timeout', 300),
        maxDurationMs: seconds('--max-duration', 86400),
      },
    },
  };
}
