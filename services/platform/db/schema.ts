/**
 * The API's tables, as kysely sees them. The migrations in ./migrations create exactly these;
 * Postgres rows are written by the API only (DESIGN.md, "Ownership").
 */
import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely';

type CreatedAt = ColumnType<Date, Date | string | undefined, never>;
type UpdatedAt = ColumnType<Date, Date | string | undefined, Date | string>;
/** jsonb: written as a JSON string or value, read as the parsed value. */
type Json<T> = ColumnType<T, string | T, string | T>;

export type UserRole = 'user' | 'admin';

export interface UsersTable {
  id: Generated<string>; // uuid
  email: string; // unique, lower-cased
  password_hash: string; // argon2id PHC string
  role: UserRole;
  created_at: CreatedAt;
}

/** pending: receiving bytes (or waiting for a presigned PUT); ready: validated video. */
export type UploadStatus = 'pending' | 'ready';

export interface UploadsTable {
  id: Generated<string>; // uuid
  user_id: string;
  status: UploadStatus;
  bucket: string;
  key: string;
  filename: string;
  content_type: string;
  bytes: ColumnType<number, number, number>; // bigint in SQL, parsed to number
  /** Probe facts shown to the user: container, codec, width, height, durationSeconds, fps. */
  media: Json<Record<string, unknown> | null>;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}

export type AnalysisStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';
export const TERMINAL_STATUSES: readonly AnalysisStatus[] = ['succeeded', 'failed', 'cancelled'];

export interface AnalysesTable {
  id: Generated<string>; // uuid
  /** null for VideoAnalyses created with kubectl (visible to admins). */
  user_id: string | null;
  upload_id: string | null;
  exercise: string; // squat | pushup | lunge | deadlift | curl | auto
  fps: number;
  options: Json<Record<string, unknown>>;
  status: AnalysisStatus;
  /** kubernetes | queue | inline: how it was dispatched. */
  dispatch: string;
  /** namespace/name of the VideoAnalysis (kubernetes dispatch). */
  resource: string | null;
  frames_done: number | null;
  frames_total: number | null;
  /** status.summary: exercise, reps, durationSeconds, score, faults. */
  summary: Json<Record<string, unknown> | null>;
  /** Where the outputs are: { bucket, prefix, report, thumbnails[], framesCsv }. */
  results: Json<Record<string, unknown> | null>;
  message: string | null;
  error_code: string | null;
  /** 0 by default: an insert may leave it out. */
  attempts: Generated<number>;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
  started_at: Date | null;
  finished_at: Date | null;
}

/** A replayable response for a request sent again with the same Idempotency-Key. */
export interface IdempotencyKeysTable {
  user_id: string;
  key: string;
  /** method + route + body hash: the same key with another request is a 422. */
  fingerprint: string;
  /** null while the first request is still running (a concurrent retry gets 409). */
  status_code: number | null;
  response: Json<unknown | null>;
  created_at: CreatedAt;
}

export interface Database {
  users: UsersTable;
  uploads: UploadsTable;
  analyses: AnalysesTable;
  idempotency_keys: IdempotencyKeysTable;
}

export type User = Selectable<UsersTable>;
export type Upload = Selectable<UploadsTable>;
export type NewUpload = Insertable<UploadsTable>;
export type Analysis = Selectable<AnalysesTable>;
export type NewAnalysis = Insertable<AnalysesTable>;
export type AnalysisPatch = Updateable<AnalysesTable>;
