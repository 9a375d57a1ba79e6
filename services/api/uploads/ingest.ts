/**
 * Takes an uploaded video in: the bytes stream to the object store (never whole in memory) and,
 * at the same time, to a scratch file, because ffprobe needs a seekable file (an MP4's index
 * may be at its end). The first bytes are sniffed before anything is kept; once the upload is
 * complete the scratch copy is probed with the engine's own checks. On any failure — refused
 * content, over the cap, client gone, store down — the object is removed and the error thrown:
 * nothing is left behind.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline, type Readable, Transform } from 'node:stream';
import { isEngineError } from '../../analysis/errors.js';
import { DEFAULT_LIMITS } from '../../analysis/limits.js';
import { probeVideo } from '../../analysis/media/probe.js';
import type { ObjectStorage } from '../../platform/object-store/storage.js';
import { type ApiError, errors } from '../errors.js';
import { assertIsoBoxesComplete } from './iso-completeness.js';
import { type Container, SNIFF_BYTES, sniffContainer } from './sniff.js';

export interface MediaFacts {
  container: string;
  codec: string;
  width: number;
  height: number;
  rotation: number;
  fps: number;
  durationSeconds: number;
}

export interface Ingested {
  bytes: number;
  media: MediaFacts;
}

interface Target {
  storage: ObjectStorage;
  bucket: string;
  key: string;
  maxBytes: number;
  scratchDir: string;
}

/** Streams `body` into the store and validates it; see the file comment. */
export async function ingestStream(
  body: Readable,
  target: Target & { contentType: string; signal?: AbortSignal; truncated?: () => boolean },
): Promise<Ingested> {
  const dir = await mkdtemp(join(target.scratchDir, 'nfc-upload-'));
  const spool = join(dir, 'video');
  const file = createWriteStream(spool);
  let stored = false;
  // The first failure in the chain (a sniffer refusal, the client going away) is the reason the
  // store's upload failed: it is what the client is told.
  let chainError: unknown;
  let container: Container | undefined;
  const chain = pipeline(
    body,
    sniffer((c) => {
      container = c;
    }),
    teeTo(file),
    (err) => {
      chainError ??= err ?? undefined;
    },
  );
  try {
    const { bytes } = await target.storage
      .putStream(target.bucket, target.key, chain, {
        contentType: target.contentType,
        maxBytes: target.maxBytes,
        ...(target.signal ? { signal: target.signal } : {}),
      })
      .catch((err: unknown) => {
        throw chainError ?? err;
      });
    stored = true;
    // A source that stops at the cap on its own (multipart's file limit) ends "normally": the
    // object is a cut-off video, and the client must hear it was too large, not that it is damaged.
    if (target.truncated?.()) throw errors.tooLarge(target.maxBytes);
    const media = await validate(spool, target.maxBytes, container);
    return { bytes, media };
  } catch (err) {
    if (stored) await target.storage.deleteObject(target.bucket, target.key).catch(() => undefined);
    throw translate(err, target.maxBytes);
  } finally {
    file.destroy();
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Validates an object that arrived by a presigned PUT: it is copied to scratch (size-capped),
 * sniffed and probed; a refused object is deleted.
 */
export async function ingestStoredObject(target: Target): Promise<Ingested> {
  const dir = await mkdtemp(join(target.scratchDir, 'nfc-upload-'));
  const spool = join(dir, 'video');
  try {
    const { bytes } = await target.storage.downloadToFile(target.bucket, target.key, spool, {
      maxBytes: target.maxBytes,
    });
    const handle = await open(spool, 'r');
    let container: Container;
    try {
      const head = Buffer.alloc(SNIFF_BYTES);
      const { bytesRead } = await handle.read(head, 0, SNIFF_BYTES, 0);
      container = sniffContainer(head.subarray(0, bytesRead));
    } finally {
      await handle.close();
    }
    return { bytes, media: await validate(spool, target.maxBytes, container) };
  } catch (err) {
    await target.storage.deleteObject(target.bucket, target.key).catch(() => undefined);
    throw translate(err, target.maxBytes);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function validate(file: string, maxBytes: number, container: Container | undefined): Promise<MediaFacts> {
  const info = await probeVideo(file, { ...DEFAULT_LIMITS, maxBytes });
  // The probe passes a fast-start MP4 cut anywhere after its index (see iso-completeness.ts).
  if (container === 'iso-bmff') await assertIsoBoxesComplete(file);
  return {
    container: info.container,
    codec: info.codec,
    width: info.width,
    height: info.height,
    rotation: info.rotation,
    fps: info.fps,
    durationSeconds: info.durationSeconds,
  };
}

/** Engine refusals become 422 with the engine's code; an object over the cap, 413. */
function translate(err: unknown, maxBytes: number): unknown {
  const code = (err as { code?: unknown }).code;
  if (code === 'ObjectTooLarge' || code === 'FST_REQ_FILE_TOO_LARGE' || code === 'FILE_TOO_LARGE') {
    return errors.tooLarge(maxBytes);
  }
  if (isEngineError(err) && err.kind === 'bad-input') return errors.badUpload(err.code, err.message);
  return err;
}

/** Holds back the first bytes until the container is known, then passes everything through. */
function sniffer(onContainer: (container: Container) => void): Transform {
  let head: Buffer | null = Buffer.alloc(0);
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      if (head === null) return done(null, chunk);
      head = Buffer.concat([head, chunk]);
      if (head.length < SNIFF_BYTES) return done();
      try {
        onContainer(sniffContainer(head));
      } catch (err) {
        return done(err as ApiError);
      }
      const all = head;
      head = null;
      done(null, all);
    },
    flush(done) {
      if (head === null) return done();
      try {
        onContainer(sniffContainer(head));
        done(null, head);
      } catch (err) {
        done(err as ApiError);
      }
    },
  });
}

/**
 * Passes chunks through while writing them to `file`, at the pace of the slower of the two: a
 * chunk goes on once the file has taken it, so neither side holds more than a stream's buffer.
 */
function teeTo(file: WriteStream): Transform {
  const tee = new Transform({
    transform(chunk: Buffer, _enc, done) {
      if (file.write(chunk)) done(null, chunk);
      else file.once('drain', () => done(null, chunk));
    },
    flush(done) {
      file.end(() => done());
    },
  });
  // A scratch-disk failure (full, removed) fails this upload: unheard, the error would crash
  // the process, and the 'drain' that never comes would stall the upload.
  file.once('error', (err) => tee.destroy(err));
  return tee;
}
