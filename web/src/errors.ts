/** Turns an API error answer into one sentence a person can read. */

interface ValidationIssue {
  loc?: unknown;
  msg?: unknown;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The field a 422 issue is about (`["body","subject"]` → "subject"); undefined when it names none. */
function fieldOf(issue: ValidationIssue): string | undefined {
  if (!Array.isArray(issue.loc)) return undefined;
  const last: unknown = issue.loc[issue.loc.length - 1];
  return typeof last === 'string' && !['body', 'query', 'path'].includes(last) ? last : undefined;
}

/**
 * FastAPI's shapes: `{"detail":"User not found"}` gives its string; a 422 list `{"detail":[{"loc","msg"}]}`
 * gives its first problem, with the field it is about; anything else a sentence naming the status.
 */
export function plainErrorOf(status: number, body: unknown): string {
  const detail = isRecord(body) ? body.detail : undefined;
  if (typeof detail === 'string' && detail.trim() !== '') return detail;
  if (Array.isArray(detail) && isRecord(detail[0])) {
    const issue: ValidationIssue = detail[0];
    if (typeof issue.msg === 'string') {
      const field = fieldOf(issue);
      return field ? `${field}: ${issue.msg}` : issue.msg;
    }
  }
  if (status === 401) return 'Not signed in.';
  if (status === 403) return 'Not allowed.';
  if (status === 404) return 'Not found.';
  if (status === 429) return 'Too many requests: wait a minute and try again.';
  if (status >= 500) return `The server failed (${status}); try again.`;
  return `The request failed (${status}).`;
}
