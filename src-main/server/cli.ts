import { parseCliArgs, USAGE } from './cli-args.js';
import { fileURLToPath } from 'node:url';
import { DEFAULT_RENDERER_DIR, startChorusServer } from './chorus-server.js';
import { ChorusError } from './errors.js';
import { createLogger } from './logger.js';
import { ensureRendererBuilt } from './renderer-build.js';
import { formatInviteLink } from '../shared/invite-link.js';

/** Entry point of `npm run server`: start, print where to reach the server, stop cleanly on a signal. */
async function main(): Promise<void> {
  const options = parseCliArgs(process.argv.slice(2));
  if (options.help) {
    console.log(USAGE);
    return;
  }
  const logger = createLogger({ level: options.logLevel });
  if (!options.config.rendererDir) {
    // From a source checkout, the meeting app is (re)built here, so a fresh clone needs no build step.
    const checkout = fileURLToPath(new URL('../../', import.meta.url));
    await ensureRendererBuilt(checkout, DEFAULT_RENDERER_DIR, (line) => console.log(line)).catch((error: unknown) => {
      console.error(`chorus: ${error instanceof Error ? error.message : String(error)}\nThe server starts anyway; the meeting app at / is unavailable until it builds.`);
    });
  }
  const server = await startChorusServer(options.config, { logger });
  // Before the banner: a supervisor may signal as soon as it reads the listening line, and
  // until a handler exists SIGTERM's default action kills the process without closing anything.
  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    logger.info('shutdown_requested', { signal });
    // A hard deadline: shutdown must never hang on a stuck handle.
    setTimeout(() => {
      logger.error('shutdown_timeout', {});
      process.exit(1);
    }, 5_000).unref();
    server.close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error('shutdown_failed', { error });
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  watchNpmParent(() => stop('SIGTERM'));
  // What the process holds once started (the idle-memory benchmark reads this).
  logger.debug('runtime_memory', { ...process.memoryUsage() });

  console.log(`Chorus server listening on ${server.url}`);
  if (server.publicUrl !== server.url) console.log(`Advertised to clients as ${server.publicUrl}`);
  if (server.tls) console.log(`TLS certificate SHA-256 fingerprint: ${server.tls.fingerprint256}`);
  const webhookSecret = server.events.webhookSecret;
  if (webhookSecret) {
    // The secret is shown once, when it is made: logs and terminals of later runs do not carry it.
    const source = webhookSecret.source;
    const signing = source.kind === 'environment'
      ? 'signing secret from CHORUS_WEBHOOK_SECRET'
      : source.generated
        ? `signing secret ${webhookSecret.secret} (generated and stored in ${source.path}; shown only this once)`
        : `signing secret in ${source.path}`;
    console.log(`Webhooks to ${server.events.webhooks.map((w) => w.url).join(', ')}; ${signing}`);
  }
  const source = server.credentials.source;
  const keyId = server.credentials.credentials.accessKeyId;
  if (source.kind === 'environment') {
    console.log(`API access key ${keyId} (from CHORUS_ACCESS_KEY_ID / CHORUS_SECRET_ACCESS_KEY)`);
  } else {
    console.log(`API access key ${keyId}; ${source.generated ? 'generated and stored' : 'loaded from'} ${source.path} (owner-only)`);
  }

  if (options.meeting) {
    const created = await server.appMeetings.create(options.meeting, true);
    const invite = formatInviteLink({ serverUrl: server.publicUrl, meetingCode: created.meetingCode, fingerprint: server.tls?.fingerprint256 });
    console.log(`Meeting "${created.name}" (code ${created.meetingCode}${created.passcodeRequired ? ', passcode required' : ''})`);
    console.log(`  invite link: ${invite}`);
    // The fragment never leaves the browser, so the host key is not sent in requests or logged by proxies.
    console.log(`  host link (keep private; ends the meeting, mutes and removes people): ${server.publicUrl}/join/${created.meetingCode}#host=${created.hostKey}`);
  } else {
    console.log(`Meeting app: ${server.publicUrl}/ ; create a meeting with --meeting NAME`);
  }

}

/**
 * Under `npm run server`, npm passes SIGTERM to the shell it started, not to us, and
 * the shell dies without passing it on. Becoming an orphan is therefore our SIGTERM.
 */
function watchNpmParent(onOrphaned: () => void): void {
  if (process.env.npm_lifecycle_event !== 'server' || process.platform === 'win32') return;
  const parent = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid !== parent) {
      clearInterval(timer);
      onOrphaned();
    }
  }, 500);
  timer.unref();
}

main().catch((error: unknown) => {
  if (error instanceof ChorusError) {
    console.error(`chorus: ${error.message}`);
  } else {
    console.error('chorus: failed to start', error);
  }
  process.exit(1);
});
