/**
 * Reading the client's SDP offer: the facts the SFU needs per m-section, and
 * the edits it makes before handing the offer to libdatachannel. Never throws.
 */

export type MediaDirection = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';

export interface RtpCodecDesc {
  payloadType: number;
  name: string;
  clockRate: number;
  channels?: number;
  fmtp?: string;
  rtcpFeedback: string[];
}

export interface MediaSection {
  index: number;
  kind: 'audio' | 'video' | 'application' | string;
  mid: string;
  direction: MediaDirection;
  /** Port 0 marks a rejected or stopped m-section. */
  port: number;
  codecs: RtpCodecDesc[];
  extensions: HeaderExtension[];
  ssrcs: number[];
  /** Primary SSRC to RTX SSRC, from `a=ssrc-group:FID`. */
  rtxSsrcs: Map<number, number>;
  msid?: string;
  /** The rids the offerer sends as RID simulcast (`a=rid:<id> send`), in offer order; empty for none. */
  sendRids: string[];
}

export interface ParsedSdp {
  sections: MediaSection[];
  /**
   * The transport's ICE username fragment and DTLS fingerprint (session level or
   * the first m-section's). Both change when a client starts a new PeerConnection.
   */
  iceUfrag?: string;
  fingerprint?: string;
}

export const TRANSPORT_CC_URI = 'http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01';
export const AUDIO_LEVEL_URI = 'urn:ietf:params:rtp-hdrext:ssrc-audio-level';
export const ABS_SEND_TIME_URI = 'http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time';
export const VIDEO_ORIENTATION_URI = 'urn:3gpp:video-orientation';
export const MID_URI = 'urn:ietf:params:rtp-hdrext:sdes:mid';
export const RID_URI = 'urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id';
export const REPAIRED_RID_URI = 'urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id';

export interface HeaderExtension {
  id: number;
  uri: string;
}

const DIRECTIONS = new Set(['sendrecv', 'sendonly', 'recvonly', 'inactive']);

export function parseSdp(sdp: string): ParsedSdp | undefined {
  if (typeof sdp !== 'string' || !sdp.startsWith('v=0')) return undefined;
  const sections: MediaSection[] = [];
  let iceUfrag: string | undefined;
  let fingerprint: string | undefined;
  let current: MediaSection | undefined;
  const byPt = new Map<number, RtpCodecDesc>();
  for (const raw of sdp.split(/\r?\n/)) {
    const line = raw.trim();
    if (line.startsWith('m=')) {
      const [kind = '', port = '0', , ...formats] = line.slice(2).split(' ');
      byPt.clear();
      current = {
        index: sections.length,
        kind,
        mid: String(sections.length),
        direction: 'sendrecv',
        port: Number(port) || 0,
        codecs: [],
        extensions: [],
        ssrcs: [],
        rtxSsrcs: new Map(),
        sendRids: [],
      };
      for (const f of formats) {
        const pt = Number(f);
        if (Number.isInteger(pt) && pt >= 0 && pt <= 127) {
          const codec: RtpCodecDesc = { payloadType: pt, name: '', clockRate: 0, rtcpFeedback: [] };
          byPt.set(pt, codec);
          current.codecs.push(codec);
        }
      }
      sections.push(current);
      continue;
    }
    if (line.startsWith('a=ice-ufrag:')) iceUfrag ??= line.slice('a=ice-ufrag:'.length);
    else if (line.startsWith('a=fingerprint:')) fingerprint ??= line.slice('a=fingerprint:'.length);
    if (!current || !line.startsWith('a=')) continue;
    const attr = line.slice(2);
    const colon = attr.indexOf(':');
    const name = colon < 0 ? attr : attr.slice(0, colon);
    const value = colon < 0 ? '' : attr.slice(colon + 1);
    if (DIRECTIONS.has(name)) {
      current.direction = name as MediaDirection;
    } else if (name === 'mid') {
      current.mid = value;
    } else if (name === 'rtpmap') {
      const match = /^(\d+) ([^/]+)\/(\d+)(?:\/(\d+))?/.exec(value);
      const codec = match ? byPt.get(Number(match[1])) : undefined;
      if (match && codec) {
        codec.name = match[2]!;
        codec.clockRate = Number(match[3]);
        if (match[4]) codec.channels = Number(match[4]);
      }
    } else if (name === 'fmtp') {
      const space = value.indexOf(' ');
      const codec = byPt.get(Number(value.slice(0, space)));
      if (codec && space > 0) codec.fmtp = value.slice(space + 1);
    } else if (name === 'rtcp-fb') {
      const space = value.indexOf(' ');
      const codec = byPt.get(Number(value.slice(0, space)));
      if (codec && space > 0) codec.rtcpFeedback.push(value.slice(space + 1));
    } else if (name === 'extmap') {
      const match = /^(\d+)(?:\/\w+)? (\S+)/.exec(value);
      if (match) current.extensions.push({ id: Number(match[1]), uri: match[2]! });
    } else if (name === 'ssrc') {
      const ssrc = Number(value.split(' ')[0]);
      if (Number.isInteger(ssrc) && ssrc >= 0 && ssrc <= 0xffffffff && !current.ssrcs.includes(ssrc)) current.ssrcs.push(ssrc);
    } else if (name === 'ssrc-group') {
      const [semantics, primary, rtx] = value.split(' ');
      if (semantics === 'FID' && primary && rtx) current.rtxSsrcs.set(Number(primary), Number(rtx));
    } else if (name === 'msid') {
      current.msid = value;
    } else if (name === 'rid') {
      const rid = /^([\w-]+) send\b/.exec(value)?.[1];
      if (rid !== undefined && !current.sendRids.includes(rid)) current.sendRids.push(rid);
    }
  }
  return { sections, iceUfrag, fingerprint };
}

/** The payload type of the first codec named `name` (case-insensitive) matching `accept`. */
export function findCodec(section: MediaSection, name: string, accept: (codec: RtpCodecDesc) => boolean = () => true): RtpCodecDesc | undefined {
  return section.codecs.find((c) => c.name.toLowerCase() === name.toLowerCase() && accept(c));
}

/**
 * Removes transport-cc from the offer: libdatachannel would accept it but never
 * sends the feedback, and Chrome's send rate collapses without it. REMB is used instead.
 */
export function stripTransportCc(sdp: string): string {
  const ids = new Set<string>();
  for (const match of sdp.matchAll(/^a=extmap:(\d+)(?:\/\w+)? (\S+)\r?$/gm)) {
    if (match[2] === TRANSPORT_CC_URI) ids.add(match[1]!);
  }
  return sdp
    .split(/\r?\n/)
    .filter((line) => {
      if (/^a=rtcp-fb:\S+ transport-cc/.test(line)) return false;
      const ext = /^a=extmap:(\d+)/.exec(line);
      return !(ext && ids.has(ext[1]!));
    })
    .join('\r\n');
}

/** Whether `sdp` asks the sender of Opus payload type `payloadType` for DTX (`usedtx=1` in its fmtp). */
export function opusDtxRequested(sdp: string, payloadType: number): boolean {
  return new RegExp(`^a=fmtp:${payloadType} [^\\r\\n]*\\busedtx=1\\b`, 'm').test(sdp);
}
