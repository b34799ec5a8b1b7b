import * as catalog from "@reelbridge/remotion/music";

export interface MusicOption {
  id: string;
  title: string;
}

/**
 * The music select's options from the project's catalog (remotion/src/music.ts), read
 * defensively: if the catalog's shape changes, the page still offers something valid to send
 * rather than failing to start (the upload API is the judge of the id).
 */
export function musicOptions(source: unknown = catalog): MusicOption[] {
  const c = (source ?? {}) as { MUSIC_CATALOG?: unknown; MUSIC_IDS?: unknown; DEFAULT_MUSIC_ID?: unknown };
  let options: MusicOption[] = [];
  if (c.MUSIC_CATALOG && typeof c.MUSIC_CATALOG === "object") {
    options = Object.entries(c.MUSIC_CATALOG as Record<string, unknown>).map(([id, v]) => ({
      id,
      title: v && typeof v === "object" && typeof (v as { title?: unknown }).title === "string" ? (v as { title: string }).title : id,
    }));
  } else if (Array.isArray(c.MUSIC_IDS)) {
    options = c.MUSIC_IDS.filter((id): id is string => typeof id === "string").map((id) => ({ id, title: id }));
  }
  if (options.length === 0) options = [{ id: "sunrise", title: "Sunrise" }];
  const def = typeof c.DEFAULT_MUSIC_ID === "string" ? c.DEFAULT_MUSIC_ID : undefined;
  return def ? [...options.filter((o) => o.id === def), ...options.filter((o) => o.id !== def)] : options;
}
