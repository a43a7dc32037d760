import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { ChimeMeetingEvent } from '../../src-main/server/events/meeting-events.js';
import { ATTEMPT_HEADER, EVENT_ID_HEADER, SIGNATURE_HEADER, verifyWebhookSignature } from '../../src-main/server/events/webhook-signature.js';

export interface ReceivedDelivery {
  id: string;
  headerId: string | undefined;
  attempt: number;
  signatureValid: boolean;
  body: string;
  event: ChimeMeetingEvent;
}

/**
 * A real HTTP webhook receiver on 127.0.0.1 that checks every signature and
 * records each delivery. It can go down and come back on the same port, and can
 * answer with an error status to exercise retries.
 */
export class WebhookReceiver {
  readonly deliveries: ReceivedDelivery[] = [];
  /** Answer this status instead of 200 while set. */
  failWith: number | undefined;
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();

  /** The key signatures are checked with; settable because a server may generate it after the receiver starts. */
  private constructor(
    public secret: string,
    public port: number,
  ) {}

  static async start(secret: string, port = 0): Promise<WebhookReceiver> {
    const receiver = new WebhookReceiver(secret, port);
    await receiver.up();
    return receiver;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/hook`;
  }

  /** Distinct events received, in first-arrival order. */
  get events(): ChimeMeetingEvent[] {
    const seen = new Set<string>();
    return this.deliveries.filter((d) => !seen.has(d.id) && seen.add(d.id)).map((d) => d.event);
  }

  async up(): Promise<void> {
    const server = createServer((req, res) => this.handle(req, res));
    server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as { port: number }).port;
    this.server = server;
  }

  /** Stops listening: connections are refused until up() again. */
  async down(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      if (this.failWith !== undefined) {
        res.writeHead(this.failWith).end();
        return;
      }
      const event = JSON.parse(body) as ChimeMeetingEvent;
      const header = req.headers[SIGNATURE_HEADER];
      this.deliveries.push({
        id: event.id,
        headerId: req.headers[EVENT_ID_HEADER] as string | undefined,
        attempt: Number(req.headers[ATTEMPT_HEADER]),
        signatureValid: verifyWebhookSignature(this.secret, body, typeof header === 'string' ? header : undefined),
        body,
        event,
      });
      res.writeHead(204).end();
    });
  }
}
