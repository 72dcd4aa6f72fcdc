/** Schemas more than one module uses: paging and the contract's error bodies. */
import { Type } from 'typebox';

export const MAX_PAGE_SIZE = 1000;

export const PagingQuery = Type.Object({
  skip: Type.Optional(Type.Integer({ minimum: 0, default: 0, description: 'Rows to skip, in id order.' })),
  limit: Type.Optional(
    Type.Integer({
      minimum: 0,
      default: 100,
      description: `Rows to return; values above ${MAX_PAGE_SIZE} are capped at ${MAX_PAGE_SIZE}.`,
    }),
  ),
});

export function pageOf(query: { skip?: number | undefined; limit?: number | undefined }): { offset: number; limit: number } {
  return { offset: query.skip ?? 0, limit: Math.min(query.limit ?? 100, MAX_PAGE_SIZE) };
}

export const DetailError = Type.Object(
  { detail: Type.String() },
  { description: 'An error with a human-readable detail, as FastAPI answers it.' },
);

export const ValidationErrorBody = Type.Object(
  {
    detail: Type.Array(
      Type.Object({
        loc: Type.Array(Type.Union([Type.String(), Type.Integer()])),
        msg: Type.String(),
        type: Type.String(),
      }),
    ),
  },
  { description: 'Schema violation: one entry per problem, FastAPI style.' },
);

/** 422 is either the schema-violation list or one of the contract's string details. */
export const UnprocessableBody = Type.Union([ValidationErrorBody, DetailError]);
