import { uploadContentTypes } from "@reelbridge/events/http";
import type { UploadContentType } from "@reelbridge/events/http";

/** Image types the upload API accepts: the upload contract's (the policy pins one). */
export type AcceptedType = UploadContentType;

export class FileRejection extends Error {
  constructor(readonly code: "NoFile" | "Empty" | "TooLarge" | "NotAnImage", message: string) {
    super(message);
    this.name = "FileRejection";
  }
}

/**
 * The image type from the file's first bytes. Browsers derive `File.type` from the name, so a
 * text file called photo.jpg says "image/jpeg": the bytes are what the pipeline will judge.
 */
export function sniffImageType(head: Uint8Array): AcceptedType | undefined {
  const at = (i: number) => head[i];
  if (at(0) === 0xff && at(1) === 0xd8 && at(2) === 0xff) return "image/jpeg";
  const png = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (png.every((b, i) => at(i) === b)) return "image/png";
  const ascii = (from: number, to: number) => String.fromCharCode(...head.subarray(from, to));
  if (head.length >= 12 && ascii(0, 4) === "RIFF" && ascii(8, 12) === "WEBP") return "image/webp";
  return undefined;
}

export const formatBytes = (bytes: number): string => {
  if (bytes < 1024) return `${bytes} bytes`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(0)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1).replace(/\.0$/, "")} MB`;
};

/**
 * Checks a picked file before anything is sent: present, not empty, within maxBytes, and an
 * actual JPEG, PNG or WebP by its content. Returns the type to declare in the upload policy.
 */
export function checkFile(file: { name: string; size: number; type: string } | undefined, head: Uint8Array, maxBytes: number): AcceptedType {
  if (!file) throw new FileRejection("NoFile", "Choose a photo to upload.");
  if (file.size === 0) throw new FileRejection("Empty", `“${file.name}” is empty (0 bytes). Choose another photo.`);
  const sniffed = sniffImageType(head);
  if (!sniffed) {
    const claimed = (uploadContentTypes as readonly string[]).includes(file.type) || /\.(jpe?g|png|webp)$/i.test(file.name);
    throw new FileRejection(
      "NotAnImage",
      claimed
        ? `“${file.name}” is not a JPEG, PNG or WebP image: its name says so, but its content is not a picture. Choose a photo.`
        : `“${file.name}” is not a JPEG, PNG or WebP image. Choose a photo.`,
    );
  }
  if (file.size > maxBytes) {
    throw new FileRejection("TooLarge", `“${file.name}” is ${formatBytes(file.size)}; photos can be at most ${formatBytes(maxBytes)}. Choose a smaller photo or export it at a lower quality.`);
  }
  return sniffed;
}
