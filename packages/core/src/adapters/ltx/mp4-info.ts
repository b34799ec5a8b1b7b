/**
 * What an MP4 really is (duration, size, frame rate, codecs), read from its `moov` box in
 * memory. Pure TypeScript on purpose: the LTX step must report true values in VideoBaseReady
 * without shipping ffprobe in its Lambda, and the header is all that is needed.
 */
export interface Mp4Info {
  durationSeconds: number;
  width: number;
  height: number;
  /** Frames per second of the video track (sample count / track duration). */
  fps: number;
  frameCount: number;
  /** Sample-entry fourcc of the video track, e.g. "avc1". */
  videoCodec: string;
  /** Sample-entry fourcc of the first audio track, when there is one. */
  audioCodec?: string;
  sizeBytes: number;
}

export class Mp4ParseError extends Error {
  readonly code = "InvalidVideo";
  readonly retryable = false;
  constructor(message: string) {
    super(message);
    this.name = "Mp4ParseError";
  }
}

interface Box {
  type: string;
  /** Start of the payload (after the header). */
  start: number;
  end: number;
}

function* boxes(view: DataView, start: number, end: number): Generator<Box> {
  let at = start;
  while (at + 8 <= end) {
    let size = view.getUint32(at);
    const type = String.fromCharCode(view.getUint8(at + 4), view.getUint8(at + 5), view.getUint8(at + 6), view.getUint8(at + 7));
    let header = 8;
    if (size === 1) {
      if (at + 16 > end) throw new Mp4ParseError(`box ${type} at ${at} is truncated`);
      const big = view.getBigUint64(at + 8);
      if (big > BigInt(Number.MAX_SAFE_INTEGER)) throw new Mp4ParseError(`box ${type} is too large`);
      size = Number(big);
      header = 16;
    } else if (size === 0) {
      size = end - at;
    }
    if (size < header || at + size > end) throw new Mp4ParseError(`box ${type} at ${at} claims ${size} bytes past the end of its parent`);
    yield { type, start: at + header, end: at + size };
    at += size;
  }
}

const child = (view: DataView, parent: Box, type: string): Box | undefined => {
  for (const b of boxes(view, parent.start, parent.end)) if (b.type === type) return b;
  return undefined;
};

const fourcc = (view: DataView, at: number) =>
  String.fromCharCode(view.getUint8(at), view.getUint8(at + 1), view.getUint8(at + 2), view.getUint8(at + 3));

interface Track {
  handler: string;
  timescale: number;
  duration: number;
  width: number;
  height: number;
  sampleCount: number;
  codec: string;
}

function readTrack(view: DataView, trak: Box): Track | undefined {
  const tkhd = child(view, trak, "tkhd");
  const mdia = child(view, trak, "mdia");
  if (!tkhd || !mdia) return undefined;
  const mdhd = child(view, mdia, "mdhd");
  const hdlr = child(view, mdia, "hdlr");
  if (!mdhd || !hdlr) return undefined;

  // tkhd: width and height are 16.16 fixed point, the last 8 bytes of the box.
  const width = Math.round(view.getUint32(tkhd.end - 8) / 65536);
  const height = Math.round(view.getUint32(tkhd.end - 4) / 65536);

  const v = view.getUint8(mdhd.start);
  const timescale = v === 1 ? view.getUint32(mdhd.start + 20) : view.getUint32(mdhd.start + 12);
  const duration = v === 1 ? Number(view.getBigUint64(mdhd.start + 24)) : view.getUint32(mdhd.start + 16);
  const handler = fourcc(view, hdlr.start + 8);

  let sampleCount = 0;
  let codec = "";
  const stbl = (() => {
    const minf = child(view, mdia, "minf");
    return minf ? child(view, minf, "stbl") : undefined;
  })();
  if (stbl) {
    const stsz = child(view, stbl, "stsz");
    if (stsz) sampleCount = view.getUint32(stsz.start + 8);
    else {
      const stz2 = child(view, stbl, "stz2");
      if (stz2) sampleCount = view.getUint32(stz2.start + 8);
    }
    const stsd = child(view, stbl, "stsd");
    // stsd: version/flags (4), entry count (4), then the first sample entry box: size (4) + fourcc.
    if (stsd && stsd.start + 16 <= stsd.end) codec = fourcc(view, stsd.start + 12);
  }
  return { handler, timescale, duration, width, height, sampleCount, codec };
}

export function readMp4Info(bytes: Uint8Array): Mp4Info {
  if (bytes.byteLength < 16) throw new Mp4ParseError(`not an MP4: only ${bytes.byteLength} bytes`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (fourcc(view, 4) !== "ftyp") throw new Mp4ParseError("not an MP4: no ftyp box at the start");
  let moov: Box | undefined;
  for (const b of boxes(view, 0, bytes.byteLength)) {
    if (b.type === "moov") {
      moov = b;
      break;
    }
  }
  if (!moov) throw new Mp4ParseError("the MP4 has no moov box (truncated, or fragmented)");

  const tracks: Track[] = [];
  for (const b of boxes(view, moov.start, moov.end)) {
    if (b.type !== "trak") continue;
    const t = readTrack(view, b);
    if (t) tracks.push(t);
  }
  const video = tracks.find((t) => t.handler === "vide");
  if (!video) throw new Mp4ParseError("the MP4 has no video track");
  if (!video.timescale || !video.duration || !video.sampleCount) throw new Mp4ParseError("the MP4's video track has no duration or no frames");
  if (!video.width || !video.height) throw new Mp4ParseError("the MP4's video track has no dimensions");
  const durationSeconds = video.duration / video.timescale;
  const audio = tracks.find((t) => t.handler === "soun");
  return {
    durationSeconds: Math.round(durationSeconds * 1000) / 1000,
    width: video.width,
    height: video.height,
    fps: Math.round((video.sampleCount / durationSeconds) * 1000) / 1000,
    frameCount: video.sampleCount,
    videoCodec: video.codec,
    ...(audio ? { audioCodec: audio.codec } : {}),
    sizeBytes: bytes.byteLength,
  };
}
