import type { RtpCodecDesc } from '../peer/sdp.js';

/**
 * The video codecs the SFU forwards, as the Chime SDK names them: VP8, H.264
 * constrained baseline and high profile (packetization mode 1), VP9 profile 0
 * and AV1 main. Each is recognised in an offer by name and format parameters.
 */
export type VideoCodec = 'VP8' | 'H264' | 'H264_HIGH' | 'VP9' | 'AV1';

export const VIDEO_CODECS: readonly VideoCodec[] = ['VP8', 'H264', 'H264_HIGH', 'VP9', 'AV1'];

const fmtpParam = (codec: RtpCodecDesc, name: string): string | undefined =>
  new RegExp(`(?:^|;)\\s*${name}=([^;]*)`, 'i').exec(codec.fmtp ?? '')?.[1]?.trim();

/** H.264 profile_idc and constraint flags: the first four hex digits of profile-level-id (the level does not matter for decoding). */
function h264Profile(codec: RtpCodecDesc): string | undefined {
  if (codec.name.toUpperCase() !== 'H264' || fmtpParam(codec, 'packetization-mode') !== '1') return undefined;
  return fmtpParam(codec, 'profile-level-id')?.slice(0, 4).toLowerCase();
}

/** Whether an offered codec description is `codec`. */
export function isCodec(codec: VideoCodec, desc: RtpCodecDesc): boolean {
  switch (codec) {
    case 'VP8':
      return desc.name.toUpperCase() === 'VP8';
    case 'H264':
      return h264Profile(desc) === '42e0';
    case 'H264_HIGH':
      return h264Profile(desc) === '6400';
    case 'VP9':
      return desc.name.toUpperCase() === 'VP9' && (fmtpParam(desc, 'profile-id') ?? '0') === '0';
    case 'AV1':
      return desc.name.toUpperCase() === 'AV1' && (fmtpParam(desc, 'profile') ?? '0') === '0';
    default: {
      const unreachable: never = codec;
      return unreachable;
    }
  }
}

/** Which of our codecs an offered codec description is, if any. */
export function codecOf(desc: RtpCodecDesc): VideoCodec | undefined {
  return VIDEO_CODECS.find((codec) => isCodec(codec, desc));
}
