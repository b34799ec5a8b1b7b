/**
 * S3's (and the local upload endpoint's) error body for a rejected POST:
 * <Error><Code>EntityTooLarge</Code><Message>…</Message>…</Error>. Parsed with a regular
 * expression, not DOMParser, so it runs anywhere; the body is a flat, well-known document.
 */
export interface StorageError {
  code: string;
  message: string;
}

const decode = (s: string) =>
  s.replace(/&(lt|gt|quot|apos|amp|#\d+|#x[0-9a-f]+);/gi, (_m, e: string) => {
    const named: Record<string, string> = { lt: "<", gt: ">", quot: '"', apos: "'", amp: "&" };
    if (named[e.toLowerCase()]) return named[e.toLowerCase()]!;
    return String.fromCodePoint(e[1] === "x" || e[1] === "X" ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10));
  });

const tag = (xml: string, name: string) => {
  const m = new RegExp(`<${name}>([\\s\\S]*?)</${name}>`).exec(xml);
  return m ? decode(m[1]!.trim()) : undefined;
};

export function parseStorageError(body: string): StorageError | undefined {
  if (!/<Error>/.test(body)) return undefined;
  const code = tag(body, "Code");
  if (!code) return undefined;
  return { code, message: tag(body, "Message") ?? "" };
}

/** What the user reads when storage refuses the upload: the cause, and what to do about it. */
export function describeStorageRejection(status: number, body: string, ctx: { maxBytes: number; fileName: string }): string {
  const err = parseStorageError(body);
  const mb = `${(ctx.maxBytes / (1024 * 1024)).toFixed(ctx.maxBytes % (1024 * 1024) === 0 ? 0 : 1)} MB`;
  if (!err) {
    return status === 0
      ? "The photo could not be sent: the network connection failed. Check your connection and try again."
      : `Storage refused the upload (HTTP ${status}). Try again in a moment.`;
  }
  switch (err.code) {
    case "EntityTooLarge":
      return `Storage refused “${ctx.fileName}”: it is larger than the ${mb} limit. Choose a smaller photo.`;
    case "EntityTooSmall":
      return `Storage refused “${ctx.fileName}”: the file is empty. Choose another photo.`;
    case "AccessDenied":
      if (/expire/i.test(err.message)) return "The upload link expired before the photo was sent. Submit the form again.";
      if (/content-type/i.test(err.message)) return `Storage refused “${ctx.fileName}”: its type does not match what was declared. Choose a JPEG, PNG or WebP photo.`;
      return `Storage refused the upload (access denied${err.message ? `: ${err.message}` : ""}). Submit the form again.`;
    case "InvalidPolicyDocument":
    case "SignatureDoesNotMatch":
    case "InvalidArgument":
    case "MalformedPOSTRequest":
      return `Storage refused the upload (${err.code}${err.message ? `: ${err.message}` : ""}). Submit the form again; if it keeps failing, the service is misconfigured.`;
    default:
      return `Storage refused the upload (${err.code}${err.message ? `: ${err.message}` : ""}).`;
  }
}
