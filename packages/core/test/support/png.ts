import { crc32, deflateSync } from "node:zlib";

/**
 * PNGs written by hand, for tests and benchmarks that need a header to say anything: decompression
 * bombs, extreme strips, truncated files. Every row is the same, so a file of tens of megapixels
 * weighs kilobytes, as an attacker's would.
 */
export function pngChunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, "latin1"), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

export interface CraftedPngOptions {
  /** 1, 2, 4, 8 or 16 (default 8). */
  bitDepth?: number;
  /** PNG colour type: 0 grey, 2 truecolour (default), 4 grey+alpha, 6 truecolour+alpha. */
  colorType?: number;
  /** Rows actually encoded; fewer than `height` makes a truncated image. */
  rows?: number;
  /** Every pixel byte this value (0: black); default a mild pattern, the same on every row. */
  fill?: number;
  /** zlib level of the IDAT stream. */
  level?: number;
}

export function craftedPng(width: number, height: number, opts: CraftedPngOptions = {}): Buffer {
  const bitDepth = opts.bitDepth ?? 8;
  const colorType = opts.colorType ?? 2;
  const channels = ({ 0: 1, 2: 3, 4: 2, 6: 4 } as Record<number, number>)[colorType] ?? 3;
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = bitDepth;
  ihdr[9] = colorType;
  const rows = Math.min(opts.rows ?? height, height);
  const rowBytes = 1 + Math.ceil((width * channels * bitDepth) / 8);
  const row = Buffer.alloc(rowBytes, opts.fill ?? 0);
  row[0] = 0; // filter type None
  if (opts.fill === undefined) for (let i = 1; i < rowBytes; i++) row[i] = (i * 7) & 0xff;
  const raw = Buffer.alloc(rowBytes * rows);
  for (let y = 0; y < rows; y++) row.copy(raw, y * rowBytes);
  const idat = deflateSync(raw, opts.level === undefined ? {} : { level: opts.level });
  return Buffer.concat([Buffer.from("\x89PNG\r\n\x1a\n", "latin1"), pngChunk("IHDR", ihdr), pngChunk("IDAT", idat), pngChunk("IEND", Buffer.alloc(0))]);
}
