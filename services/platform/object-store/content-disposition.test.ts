import assert from 'node:assert/strict';
import { it } from 'node:test';
import { contentDisposition } from './content-disposition.js';

it('names the download in ASCII and exactly in UTF-8, and cannot break out of the header', () => {
  assert.equal(
    contentDisposition('squat frames.csv'),
    `attachment; filename="squat frames.csv"; filename*=UTF-8''squat%20frames.csv`,
  );
  assert.equal(
    contentDisposition('Übung "1".csv'),
    `attachment; filename="_bung _1_.csv"; filename*=UTF-8''%C3%9Cbung%20%221%22.csv`,
  );
  assert.ok(!/[\r\n]/.test(contentDisposition('a\r\nSet-Cookie: x=1')));
});
