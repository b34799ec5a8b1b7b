import { describe, expect, it } from "vitest";
import { FileRejection, checkFile, sniffImageType } from "../../src/validate";

const bytes = (...b: number[]) => new Uint8Array(b);
const ascii = (s: string) => new TextEncoder().encode(s);
const jpeg = bytes(0xff, 0xd8, 0xff, 0xe0, 0, 0x10);
const png = bytes(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0);
const webp = ascii("RIFF\x24\x00\x00\x00WEBPVP8 ");

const rejection = (f: () => unknown) => {
  try {
    f();
  } catch (err) {
    if (err instanceof FileRejection) return err;
    throw err;
  }
  throw new Error("expected a rejection");
};

describe("sniffImageType", () => {
  it("recognises JPEG, PNG and WebP by their first bytes", () => {
    expect(sniffImageType(jpeg)).toBe("image/jpeg");
    expect(sniffImageType(png)).toBe("image/png");
    expect(sniffImageType(webp)).toBe("image/webp");
  });

  it("does not take text, GIF, or a truncated header for an image", () => {
    expect(sniffImageType(ascii("hello, I am text"))).toBeUndefined();
    expect(sniffImageType(ascii("GIF89a......"))).toBeUndefined();
    expect(sniffImageType(bytes(0xff, 0xd8))).toBeUndefined();
    expect(sniffImageType(ascii("RIFF\0\0\0\0WAVE"))).toBeUndefined();
  });
});

describe("checkFile", () => {
  const max = 15 * 1024 * 1024;

  it("returns the type to declare, from the content rather than the name", () => {
    expect(checkFile({ name: "photo.png", size: 1000, type: "image/jpeg" }, png, max)).toBe("image/png");
  });

  it("rejects a text file named .jpg, saying its content is not a picture", () => {
    const err = rejection(() => checkFile({ name: "notes.jpg", size: 42, type: "image/jpeg" }, ascii("just some text"), max));
    expect(err.code).toBe("NotAnImage");
    expect(err.message).toContain("“notes.jpg” is not a JPEG, PNG or WebP image");
    expect(err.message).toContain("content is not a picture");
  });

  it("rejects a file over the limit, naming both sizes", () => {
    const err = rejection(() => checkFile({ name: "big.jpg", size: 20 * 1024 * 1024, type: "image/jpeg" }, jpeg, max));
    expect(err.code).toBe("TooLarge");
    expect(err.message).toContain("is 20 MB");
    expect(err.message).toContain("at most 15 MB");
  });

  it("rejects no file and an empty file", () => {
    expect(rejection(() => checkFile(undefined, new Uint8Array(), max)).message).toBe("Choose a photo to upload.");
    expect(rejection(() => checkFile({ name: "e.jpg", size: 0, type: "image/jpeg" }, new Uint8Array(), max)).code).toBe("Empty");
  });
});
