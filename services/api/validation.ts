/**
 * Request validation (Ajv, as Fastify's default, with the same formats), except that bodies are
 * not coerced: a JSON body says what type each value is, so `{"filename": false}` is a 400, not
 * the string "false". Query strings, path parameters and headers are text on the wire and are
 * still coerced (`?limit=20` is the integer 20). Fastify's documented recipe for this.
 */
import { Ajv, type Options } from 'ajv';
import addFormats from 'ajv-formats';
import type { FastifySchemaCompiler } from 'fastify';

/** Unknown properties are refused rather than dropped; defaults are filled in. */
const COMMON: Options = { removeAdditional: false, useDefaults: true, allErrors: false, addUsedSchema: false };

export function createValidatorCompiler(): FastifySchemaCompiler<unknown> {
  const exact = addFormats.default(new Ajv({ ...COMMON, coerceTypes: false }));
  const coercing = addFormats.default(new Ajv({ ...COMMON, coerceTypes: 'array' }));
  return ({ schema, httpPart }) => (httpPart === 'body' ? exact : coercing).compile(schema as object);
}
