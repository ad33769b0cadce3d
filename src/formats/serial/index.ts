/** Serial-line framings (pure codecs): AER words, COBS/SLIP frames with CRC, text event and analog lines. */
export { crc16Ccitt, crc32, appendCrc, checkCrc, type CrcKind, type Endian } from './crc.js';
export { cobsEncode, cobsDecode } from './cobs.js';
export { slipEncode, slipDecode } from './slip.js';
export { Deframer, encodeFrame, type DeframerOptions, type FrameKind } from './deframer.js';
export { AER_PRESETS, resolveLayout, type AerLayout, type AerPreset, type BitField } from './aer-layout.js';
export { AerWordDecoder, AerWordEncoder, type AerCodecOptions, type AerEncoderStats } from './aer-words.js';
export { LineSplitter } from './lines.js';
export { TextEventParser, type TextEventOptions, type TextTimeUnit } from './text-events.js';
export { AnalogLineParser, type AnalogLineOptions } from './analog-lines.js';
export { SerialDecoder, type SerialFraming, type FramePayload, type SerialDecoderOptions, type SerialDecoderStats, type SerialDecodeResult } from './decoder.js';
export { SerialFrameEncoder, type SerialSinkFraming, type SerialFrameEncoderStats } from './frame-encoder.js';
export { encodeCompactDecision, decodeCompactDecision, decisionLine, COMPACT_DECISION_BYTES, type CompactDecision } from './compact-decision.js';
export { noBadFrames, type BadFrameReason, type BadFrameCounts } from './types.js';
