/**
 * S3's REST error: an HTTP status, a stable code (AccessDenied, EntityTooLarge, …) and the XML
 * body S3 sends, `<Error><Code/><Message/>…extra elements…<RequestId/><HostId/></Error>`.
 */
export class S3Error extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** Extra elements S3 adds for this code (ProposedSize, MaxSizeAllowed, StringToSign, …). */
    readonly extra: Record<string, string | number> = {},
  ) {
    super(message);
    this.name = "S3Error";
  }
}

const escapeXml = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&apos;");

export function xmlElements(fields: Record<string, string | number>): string {
  return Object.entries(fields)
    .map(([k, v]) => `<${k}>${escapeXml(String(v))}</${k}>`)
    .join("");
}

export function errorXml(err: S3Error, requestId: string, hostId: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Error>${xmlElements({ Code: err.code, Message: err.message, ...err.extra, RequestId: requestId, HostId: hostId })}</Error>`;
}

/** Parses S3's error XML (for tests and clients of the local endpoint). */
export function parseErrorXml(xml: string): { code?: string; message?: string; [element: string]: string | undefined } {
  const out: Record<string, string> = {};
  for (const m of xml.matchAll(/<([A-Za-z0-9]+)>([^<]*)<\/\1>/g)) {
    const value = m[2]!.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, "&");
    out[m[1]!] = value;
  }
  return { ...out, code: out.Code, message: out.Message };
}

export const accessDenied = (why: string) => new S3Error(403, "AccessDenied", `Invalid according to Policy: ${why}`);
