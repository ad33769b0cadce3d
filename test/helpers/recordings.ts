/**
 * The table of shared real recordings (../shared/data, see its README.md and
 * ../shared/docs/event-formats.md "Reference figures"): which format each file is, how many events
 * a correct decoder must produce, the geometry it declares or implies, and the decoder options it
 * needs. One table for the fuzz test, the benchmarks and the CLI tests.
 */
import type { FormatName } from '../../src/formats/types.js';

export interface Recording {
  /** File name inside the shared data folder (read with readShared from shared-data.ts). */
  readonly file: string;
  readonly format: FormatName;
  /** File size in bytes, as listed in the README (a guard against a wrong or changed file). */
  readonly bytes: number;
  /** Polarity events a correct decoder produces (README / digest, OpenEB semantics). */
  readonly events: number;
  /**
   * Sensor geometry as the header gives it or implies (0x0 where the file carries none); undefined
   * where the format leaves it to the decoder (the cochlea's address space).
   */
  readonly geometry: { readonly width: number; readonly height: number } | undefined;
  /** Decoder options the file needs (names as the CLI passes them, see src/cli/decoder-options.ts). */
  readonly options: Readonly<Record<string, unknown>>;
  readonly note: string;
}

const none = {} as const;

export const RECORDINGS: readonly Recording[] = [
  { file: 'evt2_expelliarmus_sample.raw', format: 'evt2', bytes: 2_170_592, events: 539_481, geometry: { width: 640, height: 480 }, options: none, note: 'old header, system_ID 21, 50.0 ms' },
  { file: 'evt2_sparklers.raw', format: 'evt2', bytes: 2_109_142, events: 521_252, geometry: { width: 640, height: 480 }, options: none, note: '95.9 ms, 345 exact duplicate CD words' },
  { file: 'evt3_expelliarmus_sample.raw', format: 'evt3', bytes: 618_052, events: 219_596, geometry: { width: 1280, height: 720 }, options: none, note: 'system_ID 48, TIME_LOW steps back under one TIME_HIGH, 8.8 ms burst' },
  { file: 'evt3_pedestrians_small.raw', format: 'evt3', bytes: 36_920, events: 5_000, geometry: { width: 1280, height: 720 }, options: none, note: 'redundant TIME_HIGH words' },
  { file: 'dat_ncars_obj_004397_td.dat', format: 'dat', bytes: 35_349, events: 4_407, geometry: { width: 0, height: 0 }, options: none, note: 'N-CARS Event2D, no geometry in the header' },
  { file: 'dat_tonic_sample_ncars.dat', format: 'dat', bytes: 16_165, events: 2_009, geometry: { width: 0, height: 0 }, options: none, note: 'N-CARS Event2D, no geometry in the header' },
  { file: 'aedat4_tonic_sample.aedat4', format: 'aedat4', bytes: 949_253, events: 111_954, geometry: { width: 320, height: 240 }, options: none, note: 'DVXplorer, LZ4, events + IMU + triggers, 59 event packets' },
  { file: 'aedat4_aestream_davis.aedat4', format: 'aedat4', bytes: 1_191_471, events: 117_667, geometry: { width: 346, height: 260 }, options: none, note: 'DAVIS346, LZ4, events + frames + IMU + triggers, 13 event packets' },
  {
    file: 'nas_cochlea_sound_mono_32ch_addr2b_ts02.aedat',
    format: 'cochlea',
    bytes: 299_184,
    events: 49_864,
    geometry: undefined,
    options: { tickUs: 0.2, addressBytes: 2 },
    note: 'headerless big-endian u16 address + u32 timestamp, 0.2 µs tick, 64 addresses',
  },
  { file: 'nmnist_tonic_sample.bin', format: 'nmnist', bytes: 21_625, events: 4_325, geometry: { width: 34, height: 34 }, options: none, note: '40-bit events, 310.5 ms' },
  { file: 'derived_evt21_little_from_sparklers.raw', format: 'evt21', bytes: 2_985_238, events: 521_252, geometry: { width: 640, height: 480 }, options: none, note: 'evt2_sparklers.raw re-encoded, endianness little' },
  { file: 'derived_evt21_legacy_from_sparklers.raw', format: 'evt21', bytes: 2_985_238, events: 521_252, geometry: { width: 640, height: 480 }, options: none, note: 'evt2_sparklers.raw re-encoded, endianness legacy (IMX636 word order)' },
];

export function recordingsOf(format: string): Recording[] {
  return RECORDINGS.filter((r) => r.format === format);
}

export function recording(file: string): Recording {
  const r = RECORDINGS.find((x) => x.file === file);
  if (!r) throw new Error(`no shared recording named ${file}; known: ${RECORDINGS.map((x) => x.file).join(', ')}`);
  return r;
}
