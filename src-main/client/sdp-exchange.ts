/**
 * How a libdatachannel offerer exchanges SDP without losing its DTLS handshake.
 *
 * libdatachannel's setRemoteDescription hands the description to the ICE agent
 * before it stores it for DTLS. If ICE can connect at once (the answerer already
 * reached us with checks built from our offer's candidates) and the answerer's
 * DTLS ClientHello is waiting, the handshake runs on libdatachannel's threads
 * while the calling thread is still between those two steps; the fingerprint
 * check then finds no remote description and fails with "unknown CA", the
 * connection closes, and setRemoteDescription throws "Got a remote candidate
 * without ICE transport". A loaded machine makes that window wide.
 *
 * The order is made deterministic instead: the offer carries no candidates, so
 * the answerer cannot reach us first, and the answer is applied without its
 * candidates, which are added only after setRemoteDescription has returned.
 * Connectivity checks, and so DTLS, can then only start once the remote
 * description (and its fingerprint) is in place. The answerer learns our
 * address from our own checks (a peer-reflexive candidate), as it does for
 * browsers that hide their addresses behind mDNS names.
 */

export interface RemoteCandidate {
  mid: string;
  candidate: string;
}

const isCandidateLine = (line: string): boolean => line.startsWith('a=candidate:') || line === 'a=end-of-candidates';

/** Our offer as sent: the same description with no candidate lines. */
export function withoutCandidates(sdp: string): string {
  return sdp.split(/\r?\n/).filter((line) => !isCandidateLine(line)).join('\r\n');
}

/** The answer without its candidates, and the candidates with the mid of the m-section each sat in. */
export function splitCandidates(sdp: string): { description: string; candidates: RemoteCandidate[] } {
  const kept: string[] = [];
  const candidates: RemoteCandidate[] = [];
  let mid = '';
  let sectionIndex = -1;
  for (const line of sdp.split(/\r?\n/)) {
    if (line.startsWith('m=')) {
      sectionIndex++;
      mid = String(sectionIndex);
    } else if (line.startsWith('a=mid:')) {
      mid = line.slice('a=mid:'.length);
    }
    if (line.startsWith('a=candidate:')) candidates.push({ mid, candidate: line.slice(2) });
    else if (line !== 'a=end-of-candidates') kept.push(line);
  }
  return { description: kept.join('\r\n'), candidates };
}

/** The part of a libdatachannel PeerConnection this needs. */
export interface AnswerTarget {
  setRemoteDescription(sdp: string, type: 'answer'): void;
  addRemoteCandidate(candidate: string, mid: string): void;
}

/** Applies an answer in the order that cannot race DTLS (see above). */
export function applyAnswer(pc: AnswerTarget, answerSdp: string): void {
  const { description, candidates } = splitCandidates(answerSdp);
  pc.setRemoteDescription(description, 'answer');
  for (const { candidate, mid } of candidates) pc.addRemoteCandidate(candidate, mid);
}
