import { DefaultBrowserBehavior, DefaultTransceiverController, NoOpLogger } from 'amazon-chime-sdk-js';
import { oneEncoderChangeAtATime } from '../../../src-renderer/src/meeting/serial-uplink-policy.js';

/**
 * The SDK's own transceiver controller on a real camera sender, told to change the
 * encoder twice without waiting (as it does after two renegotiations close together).
 * Returns what the page saw: rejected updates, the most setParameters calls in flight
 * at once (Chrome can reject one of two that overlap, depending on thread timing, so
 * the overlap itself is what is measured), and the bitrate the sender ends with.
 */
export async function encoderUpdateRace(serialized: boolean): Promise<{ failures: string[]; maxInFlight: number; maxBitrate: number | undefined }> {
  const failures: string[] = [];
  const logger = new NoOpLogger();
  const controller = new DefaultTransceiverController(logger, new DefaultBrowserBehavior());
  const pc = new RTCPeerConnection();
  const camera = await navigator.mediaDevices.getUserMedia({ video: true });
  try {
    controller.setPeer(pc);
    controller.setupLocalTransceivers();
    await controller.setVideoInput(camera.getVideoTracks()[0]!);
    const sender = controller.localVideoTransceiver().sender;
    const setParameters = sender.setParameters.bind(sender);
    let inFlight = 0;
    let maxInFlight = 0;
    sender.setParameters = async (parameters) => {
      maxInFlight = Math.max(maxInFlight, ++inFlight);
      try {
        await setParameters(parameters);
      } finally {
        inFlight--;
      }
    };
    const target = serialized ? oneEncoderChangeAtATime(controller, (e) => failures.push(String(e))) : controller;
    const updates = [400_000, 300_000, 250_000].map(async (maxBitrate) => {
      try {
        // The SDK's interface says void; the controller's implementation returns its promise.
        await (target.setEncodingParameters(new Map([['camera', { maxBitrate }]])) as unknown as Promise<void>);
      } catch (error) {
        failures.push(String(error));
      }
    });
    await Promise.all(updates);
    return { failures, maxInFlight, maxBitrate: sender.getParameters().encodings[0]?.maxBitrate };
  } finally {
    camera.getTracks().forEach((t) => t.stop());
    pc.close();
  }
}
