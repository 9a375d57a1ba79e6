import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { guardBody } from './guard-body.js';

const where = { operation: 'upload', bucket: 'b', key: 'k', uri: 's3://b/k' };
const chunks = (n: number, size = 1024) => Array.from({ length: n }, () => Buffer.alloc(size, 1));

async function drain(stream: Readable): Promise<number> {
  let bytes = 0;
  for await (const c of stream) bytes += (c as Buffer).length;
  return bytes;
}

describe('guardBody', () => {
  it('passes the body through and counts it', async () => {
    const g = guardBody(Readable.from(chunks(10)), where, { maxBytes: 10 * 1024 });
    assert.equal(await drain(g.stream), 10 * 1024);
    assert.equal(g.bytes, 10 * 1024);
    assert.equal(g.ended, true);
    assert.equal(g.failure, undefined);
    g.dispose();
  });

  it('stops one byte past maxBytes and destroys the body', async () => {
    const body = Readable.from(chunks(10));
    const g = guardBody(body, where, { maxBytes: 10 * 1024 - 1 });
    await assert.rejects(drain(g.stream), { code: 'ObjectTooLarge', kind: 'permanent' });
    assert.equal(g.failure?.code, 'ObjectTooLarge');
    assert.equal(g.ended, false);
    assert.ok(body.destroyed);
  });

  it('reports a body that fails, with its error as the cause', async () => {
    const body = new Readable({ read() {} });
    const g = guardBody(body, where, {});
    body.push(Buffer.alloc(10));
    setImmediate(() => body.destroy(Object.assign(new Error('reset'), { code: 'ECONNRESET' })));
    await assert.rejects(drain(g.stream), (e: unknown) => {
      const err = e as { code?: string; cause?: { code?: string } };
      return err.code === 'BodyStreamFailed' && err.cause?.code === 'ECONNRESET';
    });
  });

  it('reports a body that closes before its end without an error', async () => {
    const body = new Readable({ read() {} });
    const g = guardBody(body, where, {});
    setImmediate(() => body.destroy());
    await assert.rejects(drain(g.stream), { code: 'BodyStreamFailed' });
  });

  it('stops when the signal aborts, and detaches from it on dispose', async () => {
    const controller = new AbortController();
    const body = new Readable({ read() {} });
    const g = guardBody(body, where, { signal: controller.signal });
    setImmediate(() => controller.abort());
    await assert.rejects(drain(g.stream), { code: 'Aborted' });
    assert.ok(body.destroyed);
    g.dispose();
  });
});
