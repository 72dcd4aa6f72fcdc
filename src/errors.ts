/**
 * Domain errors and their HTTP status. Handlers throw these; the one error handler in
 * plugins/errors.ts turns them into FastAPI's `{"detail": "..."}` body.
 */

export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    readonly detail: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(detail);
    this.name = new.target.name;
  }
}

export class NotFound extends HttpError {
  constructor(detail = 'Not Found') {
    super(404, detail);
  }
}

export class UserNotFound extends NotFound {
  constructor() {
    super('User not found');
  }
}

export class EmailAlreadyRegistered extends HttpError {
  constructor() {
    super(400, 'Email already registered');
  }
}

/** The contract's string-detail 422s: empty or too long id lists, bad flags. */
export class InvalidRequest extends HttpError {
  constructor(detail: string) {
    super(422, detail);
  }
}

export class InvalidOption extends InvalidRequest {
  constructor(value: string) {
    super(`Invalid option: ${value}`);
  }
}

export class ServiceUnavailable extends HttpError {
  constructor(detail: string) {
    super(503, detail);
  }
}

/** One FastAPI validation problem: where, what, and pydantic's error type. */
export interface ValidationIssue {
  loc: (string | number)[];
  msg: string;
  type: string;
  ctx?: Record<string, unknown>;
}

/** A schema violation: answered 422 with `{"detail": [issue, …]}`. */
export class RequestValidationError extends Error {
  readonly statusCode = 422;
  constructor(readonly issues: ValidationIssue[]) {
    super('Request validation failed');
    this.name = 'RequestValidationError';
  }
}
