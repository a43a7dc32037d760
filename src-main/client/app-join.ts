import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { parseInviteLink, type Invite } from '../shared/invite-link.js';
import type { JoinInfo } from './headless-client.js';
import { pinCertificate, type PinnedTls } from './pinned-tls.js';

/** A meeting reached through its invite link (or host link), as the meeting app joins it. */
export interface AppMeetingTarget {
  invite: Invite;
  /** From a host link's `#host=` fragment: joins without the passcode. */
  hostKey?: string;
  passcode?: string;
  tls?: PinnedTls;
}

/** Parses an invite or host link and, for https with a fingerprint, pins the server's certificate. */
export async function resolveTarget(link: string, passcode?: string): Promise<AppMeetingTarget> {
  const parsed = parseInviteLink(link);
  if (!parsed.ok) throw new Error(parsed.error);
  const hostKey = /#host=([^&]+)/.exec(link)?.[1];
  const { invite } = parsed;
  let tls: PinnedTls | undefined;
  if (invite.serverUrl.startsWith('https:')) {
    if (!invite.fingerprint) throw new Error('An https link needs the server\'s certificate fingerprint (fp=...) so it can be pinned');
    tls = await pinCertificate(invite.serverUrl, invite.fingerprint);
  }
  return { invite, hostKey, passcode, tls };
}

/** How long a join keeps retrying while the server answers 429 (it says how long to wait in Retry-After). */
const THROTTLE_BUDGET_MS = 30_000;

/**
 * POST /app/api/meetings/:code/join: a new attendee with this display name. A 429
 * (passcode checks at once, joins per address) is retried after its Retry-After,
 * for up to THROTTLE_BUDGET_MS.
 */
export async function joinThroughApp(target: AppMeetingTarget, displayName: string): Promise<JoinInfo> {
  const deadline = Date.now() + THROTTLE_BUDGET_MS;
  for (;;) {
    const reply = await postJoin(target, displayName);
    if (reply.status !== 429 || Date.now() + reply.retryAfterMs > deadline) return parseJoin(target, displayName, reply);
    await new Promise((r) => setTimeout(r, reply.retryAfterMs + Math.random() * 250));
  }
}

async function postJoin(target: AppMeetingTarget, displayName: string): Promise<{ status: number; text: string; errorType?: string; retryAfterMs: number }> {
  const body = JSON.stringify({ displayName, ...(target.passcode ? { passcode: target.passcode } : {}), ...(target.hostKey ? { hostKey: target.hostKey } : {}) });
  const url = new URL(`/app/api/meetings/${target.invite.meetingCode}/join`, target.invite.serverUrl);
  return new Promise((resolve, reject) => {
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = send(url, { method: 'POST', headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) }, ...target.tls }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({
        status: res.statusCode ?? 0,
        text: Buffer.concat(chunks).toString('utf8'),
        // The AWS error shape names the exception in this header (the body's Code is shorter).
        errorType: [res.headers['x-amzn-errortype']].flat()[0]?.split(':')[0],
        retryAfterMs: Math.max(0, Number(res.headers['retry-after'] ?? 1) || 1) * 1000,
      }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

function parseJoin(target: AppMeetingTarget, displayName: string, { status, text, errorType }: { status: number; text: string; errorType?: string }): JoinInfo {
  let json: { Meeting?: JoinInfo['meeting']; Attendee?: JoinInfo['attendee']; Code?: string; Message?: string } = {};
  try {
    json = JSON.parse(text) as typeof json;
  } catch {
    // reported below with the status
  }
  if (status !== 200 || !json.Meeting || !json.Attendee) {
    throw new Error(`Joining ${target.invite.meetingCode} as "${displayName}" failed: ${status} ${errorType ?? json.Code ?? ''} ${json.Message ?? text.slice(0, 200)}`.trim());
  }
  return { meeting: json.Meeting, attendee: json.Attendee };
}
