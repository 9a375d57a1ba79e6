/** Shapes of /v1/uploads. */
import { type Static, Type as T } from '@sinclair/typebox';
import type { Upload } from '../../platform/db/schema.js';

export const UploadViewSchema = T.Object({
  id: T.String({ format: 'uuid' }),
  status: T.Union([T.Literal('pending'), T.Literal('ready')], {
    description: 'pending: waiting for the presigned PUT; ready: validated, can be analysed.',
  }),
  filename: T.String(),
  contentType: T.String(),
  bytes: T.Integer(),
  media: T.Union([
    T.Object(
      {
        container: T.String(),
        codec: T.String(),
        width: T.Integer(),
        height: T.Integer(),
        rotation: T.Number(),
        fps: T.Number(),
        durationSeconds: T.Number(),
      },
      { additionalProperties: true },
    ),
    T.Null(),
  ]),
  createdAt: T.String({ format: 'date-time' }),
});
export type UploadView = Static<typeof UploadViewSchema>;

export const MultipartUploadBody = T.Object(
  { file: T.String({ format: 'binary', description: 'The video (MP4, MOV, M4V, 3GP, MKV or WebM).' }) },
  { required: ['file'] },
);

export const PresignBody = T.Object(
  {
    filename: T.String({ minLength: 1, maxLength: 255 }),
    contentType: T.String({ pattern: '^video/[a-zA-Z0-9.+-]{1,64}$', description: 'e.g. video/mp4' }),
    bytes: T.Integer({ minimum: 1, description: 'Size of the file that will be PUT.' }),
  },
  { additionalProperties: false },
);
export type PresignBody = Static<typeof PresignBody>;

export const PresignResponse = T.Object({
  upload: UploadViewSchema,
  put: T.Object({
    url: T.String(),
    method: T.Literal('PUT'),
    headers: T.Record(T.String(), T.String()),
    expiresAt: T.String({ format: 'date-time' }),
  }),
});

export function toUploadView(row: Upload): UploadView {
  return {
    id: row.id,
    status: row.status,
    filename: row.filename,
    contentType: row.content_type,
    bytes: Number(row.bytes),
    media: (row.media as UploadView['media']) ?? null,
    createdAt: (row.created_at instanceof Date ? row.created_at : new Date(row.created_at)).toISOString(),
  };
}
