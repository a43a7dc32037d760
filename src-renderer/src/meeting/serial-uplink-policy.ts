import { DefaultBrowserBehavior, NScaleVideoUplinkBandwidthPolicy, type Logger, type TransceiverController } from 'amazon-chime-sdk-js';

/**
 * The SDK's camera uplink policy (NScale, its default), with the camera encoder
 * re-tuned one change at a time.
 *
 * After every renegotiation (someone starts or stops a camera) the SDK re-tunes the
 * encoder with RTCRtpSender.getParameters/setParameters and does not await it, so
 * two renegotiations close together put two setParameters in flight at once. Chrome
 * rejects a setParameters whose transaction an earlier one already consumed
 * ("getParameters() has never been called on this sender"); whether overlapping calls
 * hit that depends on its threads' timing (back to back on an idle machine they did
 * not; in busy meetings on a loaded machine they did), and the result is an uncaught
 * error. Queued, each change reads the parameters the previous one left.
 */
export class SerialUplinkPolicy extends NScaleVideoUplinkBandwidthPolicy {
  constructor(
    selfAttendeeId: string,
    private readonly log: Logger,
  ) {
    const behavior = new DefaultBrowserBehavior();
    super(selfAttendeeId, !behavior.disableResolutionScaleDown(), log, behavior);
  }

  override setTransceiverController(controller: TransceiverController | undefined): void {
    super.setTransceiverController(controller && oneEncoderChangeAtATime(controller, (error) => this.log.warn(`camera encoder update failed: ${String(error)}`)));
  }
}

const queued = new WeakSet<TransceiverController>();

/**
 * Makes the controller's two encoder updates run one after another, on the instance
 * the SDK itself also calls. A failed update (the sender went away as the meeting
 * ended) is reported, not thrown: nobody awaits these calls.
 */
export function oneEncoderChangeAtATime(controller: TransceiverController, onError: (error: unknown) => void): TransceiverController {
  if (queued.has(controller)) return controller;
  queued.add(controller);
  let last: Promise<void> = Promise.resolve();
  const enqueue = (change: () => unknown): Promise<void> => {
    last = last.then(async () => {
      await change();
    }).catch(onError);
    return last;
  };
  const setEncodingParameters = controller.setEncodingParameters.bind(controller);
  const setVideoSendingBitrateKbps = controller.setVideoSendingBitrateKbps.bind(controller);
  controller.setEncodingParameters = (params) => enqueue(() => setEncodingParameters(params));
  controller.setVideoSendingBitrateKbps = (kbps) => enqueue(() => setVideoSendingBitrateKbps(kbps));
  return controller;
}
