/**
 * The checks every `putStream` applies to an incoming body, whatever the store behind it:
 * count the bytes, stop past `maxBytes`, stop when the caller's signal aborts, and notice a body
 * that fails or closes early (a client that disconnects mid-upload). The store consumes
 * `stream`; when it fails, `failure` says why in the store's own terms.
 */
import { finished, type Readable, Transform } from 'node:stream';
import { ObjectStoreError } from './errors.js';

export interface GuardedBody {
  /** What the store reads: the body's bytes, unchanged. */
  readonly stream: Readable;
  /** Bytes that passed so far. */
  readonly bytes: number;
  /** True once the whole body passed (a store may have committed the object from then on). */
  readonly ended: boolean;
  /** Why the body was stopped (ObjectTooLarge, Aborted, BodyStreamFailed), if it was. */
  readonly failure: ObjectStoreError | undefined;
  /** Stops the body (when the store failed on its own); idempotent. */
  stop(reason: Error): void;
  /** Detaches from the caller's signal; call once the upload settled. */
  dispose(): void;
}

export function guardBody(
  body: Readable,
  where: { operation: string; bucket: string; key: string; uri: string },
  options: { maxBytes?: number; signal?: AbortSignal },
): GuardedBody {
  let bytes = 0;
  let ended = false;
  let failure: ObjectStoreError | undefined;
  const context = { operation: where.operation, bucket: where.bucket, key: where.key };
  const { maxBytes, signal } = options;

  const fail = (error: ObjectStoreError) => {
    failure ??= error;
    if (!counter.destroyed) counter.destroy(failure);
    // The caller's body is ours to stop: reading on would only pull bytes we then drop.
    if (!body.destroyed) body.destroy();
  };

  const counter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      bytes += chunk.length;
      if (maxBytes !== undefined && bytes > maxBytes) {
        fail(
          new ObjectStoreError(
            `${where.uri}: the upload is over the ${maxBytes}-byte limit`,
            'ObjectTooLarge',
            'permanent',
            { ...context, maxBytes },
          ),
        );
        done();
        return;
      }
      done(null, chunk);
    },
    flush(done) {
      ended = true;
      done();
    },
  });

  // The failure is reported through `failure` and to whoever reads `stream`, which may start
  // reading only later: an 'error' with no listener yet must not crash the process.
  counter.on('error', () => {});

  const onAbort = () =>
    fail(new ObjectStoreError(`${where.uri}: the upload was aborted`, 'Aborted', 'permanent', context, signal?.reason));
  if (signal?.aborted) onAbort();
  else signal?.addEventListener('abort', onAbort, { once: true });

  // `finished` also reports a body that closes before its end (ERR_STREAM_PREMATURE_CLOSE),
  // which is how a request whose client disconnected often ends.
  const stopWatching = finished(body, { writable: false }, (err) => {
    if (err && !ended) {
      fail(
        new ObjectStoreError(
          `${where.uri}: the upload's body failed after ${bytes} bytes (${(err as { code?: string }).code ?? err.message})`,
          'BodyStreamFailed',
          'permanent',
          { ...context, bytes },
          err,
        ),
      );
    }
  });
  if (!failure) body.pipe(counter);

  return {
    stream: counter,
    get bytes() {
      return bytes;
    },
    get ended() {
      return ended;
    },
    get failure() {
      return failure;
    },
    stop(reason: Error) {
      if (!counter.destroyed) counter.destroy(reason);
      if (!body.destroyed) body.destroy();
    },
    dispose() {
      signal?.removeEventListener('abort', onAbort);
      stopWatching();
    },
  };
}
