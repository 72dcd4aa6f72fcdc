/** Schemas more than one module uses: paging and the contract's error bodies. A `$id` names a shape in /openapi.json. */
import type { FastifyReply } from 'fastify';
import { Type } from 'typebox';
import { MAX_ANSWER_BYTES } from '../limits.js';

export const MAX_PAGE_SIZE = 1000;

/** Set (to "true") on a list answer that holds fewer rows than asked because more would not fit in MAX_ANSWER_BYTES. */
export const PAGE_TRUNCATED_HEADER = 'x-page-truncated';

const MAX_ANSWER_MIB = MAX_ANSWER_BYTES / (1024 * 1024);

/** How offset-paged lists are cut, for their OpenAPI descriptions. */
export const PAGE_SIZE_NOTE =
  `An answer never exceeds ${MAX_ANSWER_MIB} MiB: a page whose rows would not fit holds fewer rows than \`limit\` ` +
  `(at least one) and carries \`X-Page-Truncated: true\`; page on with \`skip\` += rows returned.`;

export const PagingQuery = Type.Object({
  skip: Type.Optional(Type.Integer({ minimum: 0, default: 0, description: 'Rows to skip, in id order.' })),
  limit: Type.Optional(
    Type.Integer({
      minimum: 0,
      default: 100,
      description: `Rows to return; values above ${MAX_PAGE_SIZE} are capped at ${MAX_PAGE_SIZE}. Fewer when they would not fit in ${MAX_ANSWER_MIB} MiB.`,
    }),
  ),
});

/** Marks a page that was cut by size, so a client knows more rows follow although it got fewer than `limit`. */
export function markTruncated(reply: FastifyReply, page: { truncated: boolean }): void {
  if (page.truncated) reply.header(PAGE_TRUNCATED_HEADER, 'true');
}

export function pageOf(query: { skip?: number | undefined; limit?: number | undefined }): { offset: number; limit: number } {
  return { offset: query.skip ?? 0, limit: Math.min(query.limit ?? 100, MAX_PAGE_SIZE) };
}

export const DetailError = Type.Object(
  { detail: Type.String() },
  { $id: 'HTTPError', description: 'An error with a human-readable detail, as FastAPI answers it.' },
);

/**
 * A `{"detail": …}` answer of one route and status: the HTTPError shape with a description and example
 * of its own. Error answers are written by the error handler, never serialized from this schema.
 */
export function detailAnswer(description: string, detail: string) {
  return Type.Intersect([DetailError], { description, examples: [{ detail }] });
}

export const ValidationErrorBody = Type.Object(
  {
    detail: Type.Array(
      Type.Object(
        {
          loc: Type.Array(Type.Union([Type.String(), Type.Integer()])),
          msg: Type.String(),
          type: Type.String(),
        },
        { $id: 'ValidationError' },
      ),
    ),
  },
  { $id: 'HTTPValidationError', description: 'Schema violation: one entry per problem, FastAPI style.' },
);

/** 422 is either the schema-violation list or one of the contract's string details. */
export const UnprocessableBody = Type.Union([ValidationErrorBody, DetailError], {
  description: 'Validation Error: the list of problems (HTTPValidationError), or one of the contract’s string details (HTTPError).',
});
