/**
 * The body of every error response: `{ error: { code, message, details? } }`. Clients match on
 * `code` (services/api/errors.ts is the catalogue).
 */
import { Type as T } from '@sinclair/typebox';

export const ErrorResponse = T.Object(
  {
    error: T.Object({
      code: T.String({ description: 'Stable machine-readable code, e.g. NOT_FOUND, UPLOAD_TOO_LARGE.' }),
      message: T.String({ description: 'What went wrong, for a person.' }),
      details: T.Optional(T.Object({}, { additionalProperties: true })),
    }),
  },
  { description: 'An error.' },
);

const DESCRIPTIONS: Record<number, string> = {
  400: 'The request is malformed (validation failed).',
  401: 'No valid access token.',
  403: 'Not allowed.',
  404: 'Not found (or not yours).',
  409: 'Conflicts with the current state.',
  413: 'Over the size limit.',
  415: 'Not a supported video container.',
  422: 'Understood but refused (e.g. the video cannot be analysed).',
  429: 'Too many requests.',
  503: 'Temporarily unavailable; retry.',
};

/** Documented error responses for a route, by status code. */
export function errorResponses(...codes: number[]): Record<number, typeof ErrorResponse> {
  return Object.fromEntries(codes.map((c) => [c, { ...ErrorResponse, description: DESCRIPTIONS[c] ?? 'Error.' }]));
}
