import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type BrowserServer, type Page } from 'playwright-core';
import { deriveBearerToken } from '../../src-main/server/auth/bearer-token.js';
import { TEST_CREDENTIALS } from '../helpers/server.js';
import { CHROMIUM_ARGS, CHROMIUM_EXECUTABLE } from './harness/browser.js';

/**
 * Shared setup of the meeting-app suites (app-*.test.ts): the production renderer
 * build served by a real server, people as real Chromium pages with fake devices,
 * and the tools the network tests need (a person with a browser of their own, whose
 * network process can be frozen).
 */

export const RENDERER_INDEX = fileURLToPath(new URL('../../dist/renderer/index.html', import.meta.url));
/** Screenshots of every state, kept as test artifacts (docs/screenshots holds the reviewed copy). */
export const SCREENSHOTS = fileURLToPath(new URL('../../test-results/screenshots/', import.meta.url));

export function requireRendererBuild(): void {
  if (!existsSync(RENDERER_INDEX)) throw new Error(`No renderer build at ${RENDERER_INDEX}: run \`npm run build:renderer\` first`);
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: `${SCREENSHOTS}${name}.png` });
}

/** Creates an app meeting with the host bearer token; `ca`: the certificate of a TLS server to trust. */
export async function createMeeting(serverUrl: string, name: string, options: { passcode?: string; lobby?: boolean } = {}, ca?: string): Promise<{ meetingCode: string; hostKey: string; meetingId: string }> {
  const body = JSON.stringify({ name, ...options });
  const headers = { 'Content-Type': 'application/json', Authorization: `Bearer ${deriveBearerToken(TEST_CREDENTIALS)}` };
  const { status, text } = ca
    ? await new Promise<{ status: number; text: string }>((resolve, reject) => {
        const req = httpsRequest(`${serverUrl}/app/api/meetings`, { method: 'POST', headers, ca, checkServerIdentity: () => undefined }, (res) => {
          let data = '';
          res.on('data', (chunk: Buffer) => (data += chunk.toString('utf8')));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text: data }));
        });
        req.on('error', reject);
        req.end(body);
      })
    : await fetch(`${serverUrl}/app/api/meetings`, { method: 'POST', headers, body }).then(async (res) => ({ status: res.status, text: await res.text() }));
  if (status !== 201) throw new Error(`create meeting: HTTP ${status} ${text}`);
  return JSON.parse(text) as { meetingCode: string; hostKey: string; meetingId: string };
}

export interface ContextOptions {
  colorScheme?: 'light' | 'dark';
  locale?: string;
  viewport?: { width: number; height: number };
}

export interface PageErrors {
  errors: string[];
  /** Console errors and warnings, for the "clean console on join" check. */
  console: string[];
}

/** Records page errors, CSP violations and console errors of a page. */
export function watchErrors(page: Page): PageErrors {
  const out: PageErrors = { errors: [], console: [] };
  page.on('pageerror', (error) => out.errors.push(`${error.message}\n${error.stack ?? ''}`));
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning') out.console.push(`${message.type()}: ${message.text()}`);
    if (message.type() === 'error' && /Content Security Policy/i.test(message.text())) out.errors.push(message.text());
  });
  return out;
}

/** Pages opened by a suite, so a failed test does not leave them running into the next one. */
export class People {
  private readonly contexts: BrowserContext[] = [];
  readonly errors = new Map<Page, PageErrors>();

  constructor(
    private readonly browser: () => Browser,
    private readonly baseUrl: () => string,
  ) {}

  /** A fresh context per person: separate storage, as on separate machines. */
  async open(path: string, options: ContextOptions = {}, browser = this.browser()): Promise<Page> {
    const context = await browser.newContext({ viewport: options.viewport ?? { width: 1280, height: 800 }, ...(options.colorScheme ? { colorScheme: options.colorScheme } : {}), ...(options.locale ? { locale: options.locale } : {}) });
    this.contexts.push(context);
    const page = await context.newPage();
    this.errors.set(page, watchErrors(page));
    await page.goto(/^https?:/.test(path) ? path : `${this.baseUrl()}${path}`);
    return page;
  }

  pageErrors(page: Page): string[] {
    return this.errors.get(page)?.errors ?? [];
  }

  /** Closes every page opened so far; never throws. */
  async closeAll(): Promise<void> {
    for (const context of this.contexts.splice(0)) await context.close().catch(() => undefined);
  }
}

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_EXECUTABLE, args: CHROMIUM_ARGS, headless: true });
}

/**
 * A person whose browser is theirs alone, so its network process can be frozen
 * (SIGSTOP) without freezing anyone else: their WebSocket, HTTP and WebRTC packets
 * all stop, while the page itself keeps running and can show what it sees.
 */
export class OwnBrowser {
  private constructor(
    private readonly server: BrowserServer,
    readonly browser: Browser,
  ) {}

  /** `executablePath`: e.g. a wrapper that runs Chromium inside a network namespace. */
  static async launch(executablePath = CHROMIUM_EXECUTABLE, extraArgs: string[] = []): Promise<OwnBrowser> {
    const server = await chromium.launchServer({ executablePath, args: [...CHROMIUM_ARGS, ...extraArgs], headless: true });
    const browser = await chromium.connect(server.wsEndpoint());
    return new OwnBrowser(server, browser);
  }

  /** The pid of this browser's network service (a utility process under the browser process). */
  networkServicePid(): number {
    const root = this.server.process().pid;
    if (!root) throw new Error('browser process has no pid');
    const children = new Map<number, number[]>();
    const commands = new Map<number, string>();
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
        const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        const list = children.get(ppid) ?? [];
        list.push(Number(entry));
        children.set(ppid, list);
        commands.set(Number(entry), readFileSync(`/proc/${entry}/cmdline`, 'utf8'));
      } catch {
        // The process ended while we looked.
      }
    }
    const queue = [root];
    while (queue.length > 0) {
      const pid = queue.shift()!;
      if (commands.get(pid)?.includes('--utility-sub-type=network.mojom.NetworkService')) return pid;
      queue.push(...(children.get(pid) ?? []));
    }
    throw new Error('no network service process found under the browser');
  }

  private frozen: number | undefined;

  freezeNetwork(): void {
    const pid = this.networkServicePid();
    process.kill(pid, 'SIGSTOP');
    this.frozen = pid;
  }

  thawNetwork(): void {
    if (this.frozen === undefined) return;
    try {
      process.kill(this.frozen, 'SIGCONT');
    } catch {
      // Already gone.
    }
    this.frozen = undefined;
  }

  /** Thaws first (a stopped process would hold the browser's shutdown), then closes. */
  async close(): Promise<void> {
    this.thawNetwork();
    await this.browser.close().catch(() => undefined);
    await this.server.close().catch(() => undefined);
  }
}

/** Records every value an element attribute takes (even for a frame), from the page itself. */
export async function recordAttribute(page: Page, selector: string, attribute: string, key: string): Promise<void> {
  await page.evaluate(
    ([sel, attr, k]) => {
      const seen: string[] = [];
      (window as unknown as Record<string, string[]>)[k] = seen;
      const sample = (): void => {
        const value = document.querySelector(sel)?.getAttribute(attr) ?? '';
        if (seen.at(-1) !== value) seen.push(value);
      };
      sample();
      new MutationObserver(sample).observe(document.body, { attributes: true, childList: true, subtree: true });
    },
    [selector, attribute, key] as const,
  );
}

export function recorded(page: Page, key: string): Promise<string[]> {
  return page.evaluate((k) => (window as unknown as Record<string, string[]>)[k] ?? [], key);
}

/**
 * A second host on this machine: a network namespace behind a veth pair at
 * 10.200.<index>.2, reaching 10.200.<index>.1 here, each direction limited by a
 * token bucket (tbf) when asked. Chromium runs inside it through a wrapper script.
 * Needs root and iproute2 (`ip`, `tc`); `NetnsLink.available()` says whether they are
 * here. Always `down()` it (idempotent).
 */
export class NetnsLink {
  readonly hostAddress: string;
  private readonly hostDev: string;
  private readonly peerDev: string;

  constructor(
    readonly name: string,
    readonly index: number,
  ) {
    this.hostAddress = `10.200.${index}.1`;
    this.hostDev = `vh-${name}`.slice(0, 15);
    this.peerDev = `vp-${name}`.slice(0, 15);
  }

  /** Whether this machine can make one: root, `ip` and `tc`. */
  static async available(): Promise<boolean> {
    if (process.getuid?.() !== 0) return false;
    return run('ip', ['-V']).then(() => run('tc', ['-V'])).then(() => true, () => false);
  }

  async start(rate: string): Promise<void> {
    await this.down();
    const { name, index, hostDev, peerDev } = this;
    await run('ip', ['netns', 'add', name]);
    await run('ip', ['link', 'add', hostDev, 'type', 'veth', 'peer', 'name', peerDev]);
    await run('ip', ['link', 'set', peerDev, 'netns', name]);
    await run('ip', ['addr', 'add', `10.200.${index}.1/24`, 'dev', hostDev]);
    await run('ip', ['link', 'set', hostDev, 'up']);
    await run('ip', ['-n', name, 'addr', 'add', `10.200.${index}.2/24`, 'dev', peerDev]);
    await run('ip', ['-n', name, 'link', 'set', peerDev, 'up']);
    await run('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
    await run('ip', ['-n', name, 'route', 'add', 'default', 'via', `10.200.${index}.1`]);
    await this.rate(rate);
  }

  /** Limits both directions to `rate` (tc syntax, e.g. 96kbit), or lifts the limit ('none'). */
  async rate(rate: string): Promise<void> {
    const { name, hostDev, peerDev } = this;
    await run('tc', ['qdisc', 'del', 'dev', hostDev, 'root']).catch(() => undefined);
    await run('ip', ['netns', 'exec', name, 'tc', 'qdisc', 'del', 'dev', peerDev, 'root']).catch(() => undefined);
    if (rate === 'none') return;
    const tbf = ['root', 'tbf', 'rate', rate, 'burst', '32kbit', 'latency', '200ms'];
    await run('tc', ['qdisc', 'add', 'dev', hostDev, ...tbf]);
    await run('ip', ['netns', 'exec', name, 'tc', 'qdisc', 'add', 'dev', peerDev, ...tbf]);
  }

  /** A script that runs Chromium inside the namespace, for OwnBrowser.launch. */
  chromiumWrapper(dir: string): string {
    const path = `${dir}/chromium-in-${this.name}.sh`;
    writeFileSync(path, `#!/bin/sh\nexec ip netns exec ${this.name} ${CHROMIUM_EXECUTABLE} "$@"\n`, { mode: 0o755 });
    return path;
  }

  async down(): Promise<void> {
    await run('ip', ['link', 'del', this.hostDev]).catch(() => undefined);
    await run('ip', ['netns', 'del', this.name]).catch(() => undefined);
  }
}

function run(command: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(command, args, (error, _stdout, stderr) => (error ? reject(new Error(`${command} ${args.join(' ')}: ${stderr || error.message}`)) : resolve()));
  });
}
