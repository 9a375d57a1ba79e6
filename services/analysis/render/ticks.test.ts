import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { niceStep, stepDecimals, ticksBetween } from './ticks.js';

describe('axis ticks', () => {
  it('picks round steps a reader can add up', () => {
    assert.equal(niceStep(100, 5), 20);
    assert.equal(niceStep(10, 10), 1);
    assert.equal(niceStep(10, 5), 2);
    assert.equal(niceStep(0.9, 4), 0.25);
    assert.equal(niceStep(0, 5), 1);
  });

  it('prints multiples without floating-point noise', () => {
    assert.deepEqual(ticksBetween(0, 0.3, 0.1), [0, 0.1, 0.2, 0.3]);
    assert.deepEqual(ticksBetween(62, 178, 20), [80, 100, 120, 140, 160]);
    assert.equal(stepDecimals(0.25), 2);
    assert.equal(stepDecimals(20), 0);
  });
});
