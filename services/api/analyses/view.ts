/** An analysis row as clients see it. */
import type { Static } from '@sinclair/typebox';
import type { Analysis } from '../../platform/db/schema.js';
import type { AnalysisViewSchema } from '../schemas/analysis.js';

export type AnalysisView = Static<typeof AnalysisViewSchema>;

export function toAnalysisView(row: Analysis): AnalysisView {
  const total = row.frames_total ?? 0;
  const done = row.frames_done ?? 0;
  return {
    id: row.id,
    status: row.status,
    exercise: row.exercise,
    fps: row.fps,
    uploadId: row.upload_id,
    dispatch: row.dispatch,
    progress:
      row.frames_total === null
        ? null
        : {
            framesDone: done,
            framesTotal: total,
            percent: total > 0 ? Math.min(100, Math.round((done / total) * 1000) / 10) : 0,
          },
    summary: (row.summary as AnalysisView['summary']) ?? null,
    message: row.message,
    errorCode: row.error_code,
    attempts: row.attempts,
    resource: row.resource,
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
    startedAt: row.started_at ? iso(row.started_at) : null,
    finishedAt: row.finished_at ? iso(row.finished_at) : null,
  };
}

function iso(d: Date | string): string {
  return (d instanceof Date ? d : new Date(d)).toISOString();
}
