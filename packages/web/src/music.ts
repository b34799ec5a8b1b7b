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

export interface MusicTrack extends MusicOption {
  description: string;
  /** The file the composition plays, where the page serves remotion/public (staticFile() resolves there too). */
  url: string;
}

/** One catalog track, for listening before choosing; undefined for an id the catalog lacks. */
export function musicTrack(id: string, source: unknown = catalog): MusicTrack | undefined {
  const c = (source ?? {}) as { MUSIC_CATALOG?: Record<string, unknown> };
  const entry = c.MUSIC_CATALOG && Object.hasOwn(c.MUSIC_CATALOG, id) ? (c.MUSIC_CATALOG[id] as { title?: unknown; file?: unknown; description?: unknown }) : undefined;
  if (!entry || typeof entry.file !== "string") return undefined;
  return {
    id,
    title: typeof entry.title === "string" ? entry.title : id,
    description: typeof entry.description === "string" ? entry.description : "",
    url: `/${entry.file.split("/").map(encodeURIComponent).join("/")}`,
  };
}
