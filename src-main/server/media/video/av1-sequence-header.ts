/**
 * The frame size an AV1 sequence header announces (AV1 specification §5.5), read in place so INDEX
 * can give a layered AV1 stream's resolution as VP9's scalability structure gives its own. Only the
 * fields before max_frame_width/height are walked; nothing is allocated, and a header that ends
 * early reads as false, never as an exception.
 */
export class Av1SequenceHeader {
  width = 0;
  height = 0;
  private bytes: Uint8Array = new Uint8Array(0);
  /** The next bit to read, counted from `start`'s first byte; `end` in bits. */
  private bit = 0;
  private endBit = 0;

  /** Reads the sequence header OBU payload at [start, end) of `packet`; false when it is cut short. */
  read(packet: Uint8Array, start: number, end: number): boolean {
    this.bytes = packet;
    this.bit = start * 8;
    this.endBit = end * 8;
    this.skip(3); // seq_profile
    this.skip(1); // still_picture
    const reduced = this.bits(1);
    if (reduced) {
      this.skip(5); // seq_level_idx[0]
    } else {
      let decoderModel = false;
      let bufferDelayBits = 0;
      if (this.bits(1)) {
        // timing_info: num_units_in_display_tick, time_scale, equal_picture_interval (then num_ticks_per_picture_minus_1)
        this.skip(32);
        this.skip(32);
        if (this.bits(1)) this.skipUvlc();
        decoderModel = this.bits(1) === 1;
        if (decoderModel) {
          // decoder_model_info: buffer_delay_length_minus_1, num_units_in_decoding_tick, two more lengths
          bufferDelayBits = this.bits(5) + 1;
          this.skip(32);
          this.skip(10);
        }
      }
      const initialDisplayDelay = this.bits(1) === 1;
      const operatingPoints = this.bits(5) + 1;
      for (let i = 0; i < operatingPoints && this.bit <= this.endBit; i++) {
        this.skip(12); // operating_point_idc
        if (this.bits(5) > 7) this.skip(1); // seq_level_idx, seq_tier
        if (decoderModel && this.bits(1)) this.skip(2 * bufferDelayBits + 1); // operating_parameters_info
        if (initialDisplayDelay && this.bits(1)) this.skip(4);
      }
    }
    const widthBits = this.bits(4) + 1;
    const heightBits = this.bits(4) + 1;
    const width = this.bits(widthBits) + 1;
    const height = this.bits(heightBits) + 1;
    if (this.bit > this.endBit) return false;
    this.width = width;
    this.height = height;
    return true;
  }

  /** `n` bits (at most 32), most significant first; past the end they read as 0 (and `read` then fails). */
  private bits(n: number): number {
    let value = 0;
    for (let k = 0; k < n; k++) {
      const at = this.bit++;
      const bit = at < this.endBit ? (this.bytes[at >> 3]! >> (7 - (at & 7))) & 1 : 0;
      value = value * 2 + bit;
    }
    return value;
  }

  private skip(n: number): void {
    this.bit += n;
  }

  /** uvlc(): leading zeros, a one, then as many bits. */
  private skipUvlc(): void {
    let zeros = 0;
    while (this.bit < this.endBit && this.bits(1) === 0) zeros++;
    this.skip(Math.min(zeros, 32));
  }
}
