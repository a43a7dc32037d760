/**
 * A small client for Janus's HTTP API (janus.conf.meetecho.com/docs/rest): one session,
 * handles attached to plugins, plugin requests with optional JSEP, and a long-poll loop
 * that routes events to the request that caused them (by transaction) or to the handle.
 */

export interface Jsep { type: 'offer' | 'answer'; sdp: string }

/** A Janus API message, validated at the boundary. */
export type JanusMessage =
  | { janus: 'success'; transaction?: string; data?: { id?: number }; sender?: number; plugindata?: { plugin: string; data: Record<string, unknown> } }
  | { janus: 'ack'; transaction?: string }
  | { janus: 'error'; transaction?: string; error: { code: number; reason: string } }
  | { janus: 'event'; transaction?: string; sender: number; plugindata: { plugin: string; data: Record<string, unknown> }; jsep?: Jsep }
  | { janus: 'webrtcup' | 'hangup' | 'media' | 'slowlink' | 'detached' | 'trickle' | 'timeout' | 'keepalive'; sender?: number; transaction?: string; reason?: string };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export class JanusProtocolError extends Error {
  constructor(message: string, readonly code?: number) {
    super(message);
    this.name = 'JanusProtocolError';
  }
}

function parseJsep(v: unknown): Jsep | undefined {
  if (v === undefined) return undefined;
  if (!isObject(v) || (v.type !== 'offer' && v.type !== 'answer') || typeof v.sdp !== 'string') throw new JanusProtocolError('malformed jsep');
  return { type: v.type, sdp: v.sdp };
}

function parsePluginData(v: unknown): { plugin: string; data: Record<string, unknown> } {
  if (!isObject(v) || typeof v.plugin !== 'string' || !isObject(v.data)) throw new JanusProtocolError('malformed plugindata');
  return { plugin: v.plugin, data: v.data };
}

const optionalString = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const optionalNumber = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined);

/** One message of the API (a reply or an event). Throws JanusProtocolError on anything else. */
export function parseJanusMessage(v: unknown): JanusMessage {
  if (!isObject(v) || typeof v.janus !== 'string') throw new JanusProtocolError('not a Janus message');
  const transaction = optionalString(v.transaction);
  const kind = v.janus;
  switch (kind) {
    case 'success':
      return {
        janus: 'success', transaction, sender: optionalNumber(v.sender),
        data: isObject(v.data) ? { id: optionalNumber(v.data.id) } : undefined,
        plugindata: v.plugindata === undefined ? undefined : parsePluginData(v.plugindata),
      };
    case 'ack':
      return { janus: 'ack', transaction };
    case 'error': {
      const e = v.error;
      if (!isObject(e) || typeof e.code !== 'number' || typeof e.reason !== 'string') throw new JanusProtocolError('malformed error');
      return { janus: 'error', transaction, error: { code: e.code, reason: e.reason } };
    }
    case 'event': {
      if (typeof v.sender !== 'number') throw new JanusProtocolError('event without sender');
      return { janus: 'event', transaction, sender: v.sender, plugindata: parsePluginData(v.plugindata), jsep: parseJsep(v.jsep) };
    }
    case 'webrtcup': case 'hangup': case 'media': case 'slowlink': case 'detached': case 'trickle': case 'timeout': case 'keepalive':
      return { janus: kind, sender: optionalNumber(v.sender), transaction, reason: optionalString(v.reason) };
    default:
      throw new JanusProtocolError(`unknown Janus message '${kind}'`);
  }
}

/** A long-poll answer: one message, or an array of them (maxev > 1). */
export function parseJanusPoll(v: unknown): JanusMessage[] {
  return Array.isArray(v) ? v.map(parseJanusMessage) : [parseJanusMessage(v)];
}

/**
 * A plugin's error inside an event (e.g. {videoroom: 'event', error_code, error}) as an
 * exception; otherwise the data unchanged.
 */
export function pluginDataOrThrow(data: Record<string, unknown>): Record<string, unknown> {
  if (typeof data.error_code === 'number') throw new JanusProtocolError(`plugin error ${data.error_code}: ${String(data.error)}`, data.error_code);
  return data;
}

export interface PluginReply { data: Record<string, unknown>; jsep?: Jsep }

let transactionCounter = 0;
const newTransaction = (): string => `t${++transactionCounter}-${Math.random().toString(36).slice(2, 8)}`;

export class JanusSession {
  private readonly pending = new Map<string, { resolve: (m: JanusMessage) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  private readonly handleListeners = new Map<number, (m: JanusMessage) => void>();
  private closed = false;
  private readonly keepalive: NodeJS.Timeout;
  private readonly polling: Promise<void>;

  private constructor(private readonly base: string, readonly id: number) {
    this.keepalive = setInterval(() => void this.post(`${this.base}/${this.id}`, { janus: 'keepalive' }).catch(() => undefined), 25_000);
    this.polling = this.poll();
  }

  static async create(base: string): Promise<JanusSession> {
    const reply = await postJson(base, { janus: 'create', transaction: newTransaction() });
    if (reply.janus !== 'success' || reply.data?.id === undefined) throw new JanusProtocolError(`create failed: ${JSON.stringify(reply)}`);
    return new JanusSession(base, reply.data.id);
  }

  async attach(plugin: string): Promise<number> {
    const reply = await this.post(`${this.base}/${this.id}`, { janus: 'attach', plugin });
    if (reply.janus !== 'success' || reply.data?.id === undefined) throw new JanusProtocolError(`attach ${plugin} failed: ${JSON.stringify(reply)}`);
    return reply.data.id;
  }

  /** Events for a handle that no request is waiting for (webrtcup, hangup, unsolicited plugin events). */
  onHandleEvent(handle: number, listener: (m: JanusMessage) => void): void {
    this.handleListeners.set(handle, listener);
  }

  /**
   * A plugin request. Synchronous requests answer with `success` at once; asynchronous ones
   * answer `ack` and their outcome arrives later as an event with the same transaction.
   */
  async message(handle: number, body: Record<string, unknown>, jsep?: Jsep, timeoutMs = 20_000): Promise<PluginReply> {
    const transaction = newTransaction();
    const later = new Promise<JanusMessage>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(transaction);
        reject(new JanusProtocolError(`no answer to ${String(body.request)} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(transaction, { resolve, reject, timer });
    });
    later.catch(() => undefined);
    const reply = await postJson(`${this.base}/${this.id}/${handle}`, { janus: 'message', transaction, body, ...(jsep ? { jsep } : {}) });
    let outcome: JanusMessage = reply;
    if (reply.janus === 'ack') outcome = await later;
    else this.settle(transaction);
    if (outcome.janus === 'error') throw new JanusProtocolError(`${String(body.request)}: ${outcome.error.reason}`, outcome.error.code);
    if (outcome.janus === 'success' && outcome.plugindata) return { data: pluginDataOrThrow(outcome.plugindata.data) };
    if (outcome.janus === 'event') return { data: pluginDataOrThrow(outcome.plugindata.data), jsep: outcome.jsep };
    throw new JanusProtocolError(`unexpected answer to ${String(body.request)}: ${JSON.stringify(outcome)}`);
  }

  async detach(handle: number): Promise<void> {
    this.handleListeners.delete(handle);
    await this.post(`${this.base}/${this.id}/${handle}`, { janus: 'detach' }).catch(() => undefined);
  }

  async destroy(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.keepalive);
    await this.post(`${this.base}/${this.id}`, { janus: 'destroy' }).catch(() => undefined);
    for (const [, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(new JanusProtocolError('session destroyed'));
    }
    this.pending.clear();
    await this.polling;
  }

  private settle(transaction: string): void {
    const p = this.pending.get(transaction);
    if (p) {
      clearTimeout(p.timer);
      this.pending.delete(transaction);
    }
  }

  private post(url: string, body: Record<string, unknown>): Promise<JanusMessage> {
    return postJson(url, { ...body, transaction: newTransaction() });
  }

  private async poll(): Promise<void> {
    while (!this.closed) {
      let messages: JanusMessage[];
      try {
        const res = await fetch(`${this.base}/${this.id}?maxev=50&rid=${Date.now()}`);
        messages = parseJanusPoll(await res.json());
      } catch {
        if (!this.closed) await new Promise((r) => setTimeout(r, 100));
        continue;
      }
      for (const m of messages) this.dispatch(m);
    }
  }

  private dispatch(m: JanusMessage): void {
    const transaction = m.transaction;
    const waiting = transaction === undefined ? undefined : this.pending.get(transaction);
    if (waiting && (m.janus === 'event' || m.janus === 'error' || m.janus === 'success')) {
      clearTimeout(waiting.timer);
      this.pending.delete(transaction!);
      waiting.resolve(m);
      return;
    }
    const sender = 'sender' in m ? m.sender : undefined;
    if (sender !== undefined) this.handleListeners.get(sender)?.(m);
  }
}

async function postJson(url: string, body: Record<string, unknown>): Promise<JanusMessage> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return parseJanusMessage(await res.json());
}
