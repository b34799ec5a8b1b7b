import { Transform } from "node:stream";
import type { TransformCallback } from "node:stream";
import { S3Error } from "./errors";

/**
 * Decodes `Content-Encoding: aws-chunked` bodies
 * (docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html): `<hex size>[;ext]\r\n<bytes>\r\n`
 * … `0[;ext]\r\n<trailer: value\r\n>*\r\n`. Only the payload goes downstream, streaming (a chunk
 * is never held whole); the trailers (e.g. x-amz-checksum-crc32) are collected for the caller.
 * Chunk extensions such as chunk-signature are skipped: the caller only lets unsigned-chunk
 * encodings (STREAMING-UNSIGNED-PAYLOAD-TRAILER) reach this.
 */
export class AwsChunkedDecoder extends Transform {
  readonly trailers = new Map<string, string>();
  private state: "size" | "data" | "data-crlf" | "trailer" | "done" = "size";
  private line = "";
  private remaining = 0;
  private crlfSeen = 0;
  private trailerBytes = 0;

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    try {
      this.consume(chunk);
      cb();
    } catch (err) {
      cb(err as Error);
    }
  }

  override _flush(cb: TransformCallback): void {
    if (this.state !== "done") return cb(incomplete());
    cb();
  }

  private consume(buf: Buffer): void {
    let i = 0;
    while (i < buf.length) {
      switch (this.state) {
        case "data": {
          const n = Math.min(this.remaining, buf.length - i);
          this.push(buf.subarray(i, i + n));
          i += n;
          this.remaining -= n;
          if (this.remaining === 0) {
            this.state = "data-crlf";
            this.crlfSeen = 0;
          }
          break;
        }
        case "data-crlf": {
          const expected = this.crlfSeen === 0 ? 0x0d : 0x0a;
          if (buf[i] !== expected) throw malformed("a chunk is not followed by CRLF");
          i++;
          if (++this.crlfSeen === 2) this.state = "size";
          break;
        }
        case "size":
        case "trailer": {
          const nl = buf.indexOf(0x0a, i);
          const end = nl < 0 ? buf.length : nl + 1;
          this.line += buf.toString("latin1", i, end);
          i = end;
          if (this.line.length > 8192) throw malformed("a chunk header or trailer line is too long");
          if (nl >= 0) {
            const line = this.line;
            this.line = "";
            this.onLine(line.endsWith("\r\n") ? line.slice(0, -2) : line.slice(0, -1));
          }
          break;
        }
        case "done":
          throw malformed("data after the final chunk");
      }
    }
  }

  private onLine(line: string): void {
    if (this.state === "size") {
      const size = line.split(";", 1)[0]!.trim();
      if (!/^[0-9a-fA-F]{1,15}$/.test(size)) throw malformed(`bad chunk size ${JSON.stringify(size.slice(0, 20))}`);
      this.remaining = parseInt(size, 16);
      this.state = this.remaining === 0 ? "trailer" : "data";
      return;
    }
    if (line === "") {
      this.state = "done";
      return;
    }
    this.trailerBytes += line.length;
    if (this.trailerBytes > 16 * 1024) throw malformed("trailers too large");
    const colon = line.indexOf(":");
    if (colon <= 0) throw malformed("a trailer is not `name:value`");
    this.trailers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
}

const malformed = (why: string) => new S3Error(400, "InvalidRequest", `The aws-chunked body is malformed: ${why}.`);
const incomplete = () => new S3Error(400, "IncompleteBody", "The request body terminated unexpectedly");
