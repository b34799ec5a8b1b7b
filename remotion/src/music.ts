// The music beds that ship with the project (remotion/public/music). The upload API validates
// a job's music choice against MUSIC_IDS; the composition plays the file from the bundle.
// zod-only on purpose: contracts and Lambdas import this without React or Remotion.
import { z } from "zod";

export const MUSIC_CATALOG = {
  sunrise: {
    title: "Sunrise",
    file: "music/sunrise.m4a",
    durationSeconds: 16,
    licence: "CC0-1.0",
    description: "Warm four-chord pad with a slow arpeggio.",
  },
  pulse: {
    title: "Pulse",
    file: "music/pulse.m4a",
    durationSeconds: 14.4,
    licence: "CC0-1.0",
    description: "100 bpm kick, off-beat hat and a bass line.",
  },
} as const satisfies Record<string, { title: string; file: string; durationSeconds: number; licence: string; description: string }>;

export type MusicId = keyof typeof MUSIC_CATALOG;
export const MUSIC_IDS = Object.keys(MUSIC_CATALOG) as [MusicId, ...MusicId[]];
export const DEFAULT_MUSIC_ID: MusicId = "sunrise";
export const musicIdSchema = z.enum(MUSIC_IDS);

export const isMusicId = (value: unknown): value is MusicId => musicIdSchema.safeParse(value).success;
