/**
 * Domain errors and their HTTP status. Handlers throw these; the one error handler in
 * fastapi/fastapi-errors.ts turns them into FastAPI's `{"detail": "..."}` body.
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

class NotFound extends HttpError {
  constructor(detail = 'Not Found') {
    super(404, detail);
  }
}

export class UserNotFound extends NotFound {
  constructor() {
    super('User not found');
  }
}

export class MessageNotFound extends NotFound {
  constructor() {
    super('Message not found');
  }
}

export class ThreadNotFound extends NotFound {
  constructor() {
    super('Thread not found');
  }
}

/** A mailbox state that this database cannot bring up to date (another database's, or ahead of it). */
export class CannotCalculateChanges extends HttpError {
  constructor() {
    super(410, 'Cannot calculate changes');
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

/** No valid bearer token where one is needed, or a token that is tampered, expired, malformed or names nobody. */
export class NotAuthenticated extends HttpError {
  constructor() {
    super(401, 'Not authenticated', { 'www-authenticate': 'Bearer' });
  }
}

/** Login refused: the same answer for an unknown email and a wrong password. */
export class IncorrectCredentials extends HttpError {
  constructor() {
    super(401, 'Incorrect email or password', { 'www-authenticate': 'Bearer' });
  }
}

/** A known caller acting on someone else's behalf. */
export class NotAllowed extends HttpError {
  constructor() {
    super(403, 'Not allowed');
  }
}

/** Over a rate limit; Retry-After says in how many seconds the window ends. */
export class TooManyRequests extends HttpError {
  constructor(retryAfterSeconds: number) {
    super(429, 'Too many requests', { 'retry-after': String(Math.max(1, Math.ceil(retryAfterSeconds))) });
  }
}

/** The database cannot serve the request right now (down, restarting, or locked past its timeout); retrying soon may succeed. */
export class ServiceUnavailable extends HttpError {
  constructor(retryAfterSeconds: number) {
    super(503, 'Service unavailable', { 'retry-after': String(Math.max(1, Math.ceil(retryAfterSeconds))) });
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
