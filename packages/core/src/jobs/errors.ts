/** A list cursor that this API did not issue (or issued for another owner): the caller's error, 400. */
export class InvalidCursorError extends Error {
  readonly code = "InvalidCursor";
  constructor(message = "the cursor is not valid for this listing") {
    super(message);
    this.name = "InvalidCursorError";
  }
}

/** A step-state name that is empty, too long or has control characters. */
export class InvalidStateNameError extends Error {
  readonly code = "InvalidStateName";
  constructor(readonly stateName: string) {
    super(`step state name must be 1-200 printable characters, got ${JSON.stringify(stateName.slice(0, 40))}${stateName.length > 40 ? "…" : ""}`);
    this.name = "InvalidStateNameError";
  }
}

export const STATE_NAME_MAX = 200;

export function assertStateName(name: string): void {
  if (typeof name !== "string" || name.length === 0 || name.length > STATE_NAME_MAX || [...name].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f)) {
    throw new InvalidStateNameError(String(name));
  }
}

/** Opaque cursors: base64url of JSON. */
export const encodeCursor = (value: unknown): string => Buffer.from(JSON.stringify(value), "utf8").toString("base64url");

export function decodeCursor(cursor: string): unknown {
  if (!/^[A-Za-z0-9_-]{1,2048}$/.test(cursor)) throw new InvalidCursorError();
  try {
    return JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
  } catch {
    throw new InvalidCursorError();
  }
}

/** No job with that id for this caller: 404 (also when it exists but is someone else's). */
export class JobNotFoundError extends Error {
  readonly code = "JobNotFound";
  constructor(readonly jobId: string) {
    super(`no job ${jobId}`);
    this.name = "JobNotFoundError";
  }
}

/** A listing request out of bounds (limit): 400. */
export class InvalidListRequestError extends Error {
  readonly code = "InvalidRequest";
  constructor(message: string) {
    super(message);
    this.name = "InvalidListRequestError";
  }
}
