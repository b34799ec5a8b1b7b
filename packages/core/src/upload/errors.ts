/** One field the caller got wrong, named by its path in the request body ("title", "clips.cutPoints.0"). */
export interface FieldIssue {
  field: string;
  message: string;
}

/** The upload request does not validate: the handler answers 400 with these details. */
export class UploadValidationError extends Error {
  readonly code = "InvalidRequest";
  constructor(message: string, readonly details: FieldIssue[]) {
    super(message);
    this.name = "UploadValidationError";
  }
}

/** The caller's bearer token is missing or invalid: the handler answers 401. */
export class UnauthorizedError extends Error {
  readonly code = "Unauthorized";
  constructor(message: string, readonly wwwAuthenticate: string) {
    super(message);
    this.name = "UnauthorizedError";
  }
}
