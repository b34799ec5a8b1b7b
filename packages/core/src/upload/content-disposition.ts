/**
 * `Content-Disposition: attachment` for presigned downloads, with an ASCII fallback and the
 * RFC 6266 / 5987 UTF-8 name, so a title in any script survives as the saved file's name.
 * Shared by the S3 and the file blob stores so both sign the same header.
 */
export function contentDisposition(fileName: string): string {
  const ascii = fileName.replace(/[^\x20-\x7e]/g, "_").replace(/["\\]/g, "_");
  const utf8 = encodeURIComponent(fileName).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `attachment; filename="${ascii}"; filename*=UTF-8''${utf8}`;
}
