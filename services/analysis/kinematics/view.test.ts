import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { summarizeView, type View } from './view.js';

const views = (side: number, front: number, unseen = 0): Array<View | undefined> => [
  ...Array<View>(side).fill('side'),
  ...Array<View>(front).fill('front'),
  ...Array<undefined>(unseen).fill(undefined),
];

describe('summarizeView', () => {
  it('calls a clip side-on when at least 80% of the seen frames are side-on', () => {
    assert.equal(summarizeView(views(8, 2)), 'side');
    assert.equal(summarizeView(views(4, 1)), 'side');
    assert.equal(summarizeView(views(10, 0)), 'side');
  });

  it('calls a clip frontal when at least 80% of the seen frames are frontal', () => {
    assert.equal(summarizeView(views(2, 8)), 'front');
    assert.equal(summarizeView(views(0, 3)), 'front');
  });

  it('calls a clip mixed when neither view reaches 80%', () => {
    assert.equal(summarizeView(views(7, 3)), 'mixed');
    assert.equal(summarizeView(views(5, 5)), 'mixed');
  });

  it('ignores frames where the body was not seen, and says unknown when none was', () => {
    assert.equal(summarizeView(views(4, 0, 20)), 'side');
    assert.equal(summarizeView(views(0, 0, 5)), 'unknown');
    assert.equal(summarizeView([]), 'unknown');
  });

  it('summarises only the frames of the range asked for', () => {
    const v = views(10, 10);
    assert.equal(summarizeView(v, 0, 10), 'side');
    assert.equal(summarizeView(v, 10, 20), 'front');
    assert.equal(summarizeView(v, 5, 15), 'mixed');
  });
});
