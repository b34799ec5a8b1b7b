// Synthesizes the project's own music beds (no samples, no third-party material) and encodes
// them with the system FFmpeg to remotion/public/music/*.m4a. Deterministic: same script, same audio.
// Run: pnpm --filter @reelbridge/remotion music
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

const RATE = 44_100;
const out = path.resolve(import.meta.dirname, "../public/music");
const midi = (n: number) => 440 * 2 ** ((n - 69) / 12);

type Voice = (t: number) => number;

// A four-chord progression of soft additive pads: each chord swells in and out over its bar.
const sunrise = (seconds: number): [Float32Array, Float32Array] => {
  const chords = [
    [48, 55, 64, 67, 72], // C
    [45, 52, 60, 64, 69], // Am
    [41, 48, 57, 60, 65], // F
    [43, 50, 59, 62, 67], // G
  ];
  const bar = 4;
  const pad: Voice = (t) => {
    const i = Math.floor(t / bar) % chords.length;
    const local = t % bar;
    const env = Math.sin((Math.PI * local) / bar) ** 0.8;
    let s = 0;
    for (const n of chords[i]!) {
      const f = midi(n);
      s += Math.sin(2 * Math.PI * f * t) + 0.3 * Math.sin(2 * Math.PI * 2 * f * t) + 0.1 * Math.sin(2 * Math.PI * 3 * f * t);
    }
    return (0.09 * env * s) / 1.4;
  };
  // A slow arpeggio on top, panned opposite ways so the bed sounds wide.
  const arp: Voice = (t) => {
    const step = 0.5;
    const i = Math.floor(t / bar) % chords.length;
    const k = Math.floor(t / step) % 4;
    const f = midi(chords[i]![k + 1]! + 12);
    const local = t % step;
    return 0.12 * Math.exp(-4 * local) * Math.sin(2 * Math.PI * f * t);
  };
  return render(seconds, (t) => [pad(t) + 0.8 * arp(t), pad(t) + 0.4 * arp(t)]);
};

// A 100 bpm pulse: kick on the beat, an off-beat hat made from hashed noise, and a bass line.
const pulse = (seconds: number): [Float32Array, Float32Array] => {
  const beat = 60 / 100;
  const bass = [36, 36, 43, 41];
  const noise = (t: number) => {
    const x = Math.sin(Math.floor(t * RATE) * 12.9898) * 43_758.5453;
    return 2 * (x - Math.floor(x)) - 1;
  };
  return render(seconds, (t) => {
    const b = t % beat;
    const kick = 0.5 * Math.exp(-18 * b) * Math.sin(2 * Math.PI * (50 + 90 * Math.exp(-30 * b)) * b);
    const h = (t + beat / 2) % beat;
    const hat = 0.06 * Math.exp(-60 * h) * noise(t);
    const bar = Math.floor(t / (4 * beat)) % bass.length;
    const f = midi(bass[bar]!);
    const bs = 0.18 * Math.exp(-3 * b) * (Math.sin(2 * Math.PI * f * t) + 0.25 * Math.sin(2 * Math.PI * 2 * f * t));
    const pad = 0.04 * (Math.sin(2 * Math.PI * midi(bass[bar]! + 24) * t) + Math.sin(2 * Math.PI * midi(bass[bar]! + 31) * t));
    return [kick + bs + pad + hat, kick + bs + pad + 0.7 * hat];
  });
};

const render = (seconds: number, f: (t: number) => [number, number]): [Float32Array, Float32Array] => {
  const n = Math.round(seconds * RATE);
  const l = new Float32Array(n);
  const r = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const [a, b] = f(i / RATE);
    l[i] = a;
    r[i] = b;
  }
  return [l, r];
};

const wav = ([l, r]: [Float32Array, Float32Array]): Buffer => {
  const n = l.length;
  const buf = Buffer.alloc(44 + n * 4);
  buf.write("RIFF", 0);
  buf.writeUInt32LE(36 + n * 4, 4);
  buf.write("WAVEfmt ", 8);
  buf.writeUInt32LE(16, 16);
  buf.writeUInt16LE(1, 20);
  buf.writeUInt16LE(2, 22);
  buf.writeUInt32LE(RATE, 24);
  buf.writeUInt32LE(RATE * 4, 28);
  buf.writeUInt16LE(4, 32);
  buf.writeUInt16LE(16, 34);
  buf.write("data", 36);
  buf.writeUInt32LE(n * 4, 40);
  const clip = (x: number) => Math.max(-1, Math.min(1, x)) * 32_767;
  for (let i = 0; i < n; i++) {
    buf.writeInt16LE(Math.round(clip(l[i]!)), 44 + i * 4);
    buf.writeInt16LE(Math.round(clip(r[i]!)), 46 + i * 4);
  }
  return buf;
};

// 16 s = 4 bars of sunrise and 6⅔ bars of pulse; both loop seamlessly in the composition.
const tracks = { sunrise: sunrise(16), pulse: pulse(16 * 0.9) } as const;
const tmp = mkdtempSync(path.join(tmpdir(), "reelbridge-music-"));
try {
  for (const [id, samples] of Object.entries(tracks)) {
    const src = path.join(tmp, `${id}.wav`);
    writeFileSync(src, wav(samples));
    const dst = path.join(out, `${id}.m4a`);
    execFileSync("ffmpeg", ["-y", "-loglevel", "error", "-i", src, "-c:a", "aac", "-b:a", "128k", "-map_metadata", "-1", "-fflags", "+bitexact", dst]);
    console.log(`${id}.m4a written`);
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
