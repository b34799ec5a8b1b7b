// Serves the local runtime's media files (base clips, music, logos) to the renderer's browser
// and compositor over HTTP on 127.0.0.1. Only files registered for a job are reachable, each
// under an unguessable token: the server never maps a URL path onto the file system.
import { randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import { realpath, stat } from "node:fs/promises";
import type { Server } from "node:http";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";

const TYPES: Record<string, string> = {
  ".mp4": "video/mp4",
  ".m4v": "video/mp4",
  ".mov": "video/quicktime",
  ".webm": "video/webm",
  ".m4a": "audio/mp4",
  ".aac": "audio/aac",
  ".mp3": "audio/mpeg",
  ".wav": "audio/wav",
  ".ogg": "audio/ogg",
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".jpeg": "image/jpeg",
  ".webp": "image/webp",
  ".gif": "image/gif",
  ".svg": "image/svg+xml",
};

export class MediaNotAllowedError extends Error {
  override name = "MediaNotAllowedError";
  readonly code = "MEDIA_NOT_ALLOWED";
}

export type MediaServer = {
  /**
   * Makes `filePath` fetchable; returns its URL. Registering the same file twice returns the same URL.
   * `ownFile`: a file the renderer wrote itself (a shrunk base clip), exempt from allowedRoots.
   */
  register(filePath: string, opts?: { ownFile?: boolean }): Promise<string>;
  /** Makes the URL unreachable again. */
  unregister(url: string): void;
  close(): Promise<void>;
};

export type MediaServerOptions = {
  /** If set, only files inside these directories may be registered. */
  allowedRoots?: string[];
};

export const startMediaServer = async ({ allowedRoots }: MediaServerOptions = {}): Promise<MediaServer> => {
  const byToken = new Map<string, { file: string; refs: number }>();
  const byFile = new Map<string, string>();
  const roots = allowedRoots ? await Promise.all(allowedRoots.map((r) => realpath(r))) : null;

  const server: Server = createServer((req, res) => {
    res.setHeader("Access-Control-Allow-Origin", "*");
    res.setHeader("Cache-Control", "no-store");
    const token = (req.url ?? "").split("/")[2] ?? "";
    const entry = byToken.get(token);
    if (!entry || (req.method !== "GET" && req.method !== "HEAD")) {
      res.writeHead(entry ? 405 : 404).end();
      return;
    }
    stat(entry.file).then(
      ({ size }) => {
        const type = TYPES[path.extname(entry.file).toLowerCase()] ?? "application/octet-stream";
        const range = /^bytes=(\d*)-(\d*)$/.exec(req.headers.range ?? "");
        let start = 0;
        let end = size - 1;
        if (range) {
          if (range[1]) {
            start = Number(range[1]);
            if (range[2]) end = Math.min(Number(range[2]), size - 1);
          } else if (range[2]) {
            start = Math.max(0, size - Number(range[2]));
          }
          if (start > end || start >= size) {
            res.writeHead(416, { "Content-Range": `bytes */${size}` }).end();
            return;
          }
        }
        const headers = { "Content-Type": type, "Accept-Ranges": "bytes", "Content-Length": String(end - start + 1) };
        res.writeHead(range ? 206 : 200, range ? { ...headers, "Content-Range": `bytes ${start}-${end}/${size}` } : headers);
        if (req.method === "HEAD" || size === 0) {
          res.end();
          return;
        }
        const stream = createReadStream(entry.file, { start, end });
        stream.on("error", () => res.destroy());
        res.on("close", () => stream.destroy());
        stream.pipe(res);
      },
      () => res.writeHead(404).end(),
    );
  });
  // The browser's and the compositor's keep-alive connections must not hold close() open.
  server.keepAliveTimeout = 2_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const base = `http://127.0.0.1:${port}`;

  return {
    async register(filePath, opts) {
      const file = await realpath(path.resolve(filePath)).catch((cause: unknown) => {
        throw new MediaNotAllowedError(`media file not found: ${filePath}`, { cause });
      });
      if (!(await stat(file)).isFile()) throw new MediaNotAllowedError(`not a file: ${filePath}`);
      if (roots && !opts?.ownFile && !roots.some((r) => file === r || file.startsWith(r + path.sep))) {
        throw new MediaNotAllowedError(`media file outside the allowed directories: ${filePath}`);
      }
      let token = byFile.get(file);
      if (token) {
        byToken.get(token)!.refs++;
      } else {
        token = randomBytes(16).toString("hex");
        byFile.set(file, token);
        byToken.set(token, { file, refs: 1 });
      }
      return `${base}/m/${token}/${encodeURIComponent(path.basename(file))}`;
    },
    unregister(url) {
      const token = url.startsWith(base) ? url.slice(base.length).split("/")[2] : undefined;
      const entry = token ? byToken.get(token) : undefined;
      if (!token || !entry) return;
      if (--entry.refs > 0) return;
      byToken.delete(token);
      byFile.delete(entry.file);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
};
