/**
 * A headless viewer for constrained-link tests, run inside a network namespace
 * (`ip netns exec NS node --import tsx netns-viewer.ts INVITE BIND_ADDRESS SECONDS`).
 * It joins through the invite link, receives every camera with receiver reports on,
 * and prints one JSON line a second: packets per receive slot, audio packets, and the
 * server's PAUSE/RESUME frames so far.
 */
import { joinThroughApp, resolveTarget } from '../../../src-main/client/app-join.js';
import { HeadlessClient } from '../../../src-main/client/headless-client.js';
import { SdkSignalFrame_Type } from '../../../src-main/shared/signaling/frames.js';

const [invite, bindAddress, seconds] = process.argv.slice(2);
const target = await resolveTarget(invite!);
const { meeting, attendee } = await joinThroughApp(target, 'constrained');
const viewer = await HeadlessClient.join(meeting, attendee, { receiveSlots: 4, receiverReports: { lossRate: 0 }, tls: target.tls, bindAddress, recordAudio: false });
await viewer.subscribe(meeting.MediaPlacement!.AudioHostUrl!, viewer.latestSources(attendee.AttendeeId));
await viewer.connected(20_000);
const started = Date.now();
const timer = setInterval(() => {
  const groups = (type: SdkSignalFrame_Type) => viewer.frames.filter((f) => f.type === type).map((f) => f.pause!.groupIds);
  console.log(JSON.stringify({ t: Date.now() - started, received: Object.fromEntries(viewer.received), audio: viewer.audioPackets, pauses: groups(SdkSignalFrame_Type.PAUSE), resumes: groups(SdkSignalFrame_Type.RESUME) }));
}, 1000);
setTimeout(() => {
  clearInterval(timer);
  void viewer.close().then(() => process.exit(0));
}, Number(seconds) * 1000);
