import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { gaussian } from '../testing/builders.js';
import { DEFAULT_SEGMENT_OPTIONS, type SegmentOptions, segmentReps } from './segment.js';

const FPS = 15;
const OPTIONS: SegmentOptions = { ...DEFAULT_SEGMENT_OPTIONS, minRange: 45, minTurn: 50, maxRepSeconds: 8 };

/** Builds an excursion signal (0 at rest) piece by piece, at 15 samples a second. */
class Signal {
  readonly values: number[] = [];
  /** Sample indexes of each rep's turning point. */
  readonly peaks: number[] = [];

  rest(seconds: number, level = 0): this {
    for (let i = 0; i < Math.round(seconds * FPS); i++) this.values.push(level);
    return this;
  }

  /** Half a cosine from `from` to `to` over `seconds` (the first sample is not repeated). */
  private ramp(from: number, to: number, seconds: number): void {
    const n = Math.round(seconds * FPS);
    for (let i = 1; i <= n; i++) this.values.push(from + ((to - from) * (1 - Math.cos((Math.PI * i) / n))) / 2);
  }

  /** One rep: down to `depth` and back, with an optional hold at the turn. */
  rep(depth = 100, seconds = 2, holdSeconds = 0): this {
    if (this.values.length === 0) this.values.push(0);
    this.ramp(0, depth, seconds / 2);
    this.peaks.push(this.values.length - 1);
    this.rest(holdSeconds, depth);
    this.ramp(depth, 0, seconds / 2);
    return this;
  }

  /** Ends the clip on its way into a rep, at `fraction` of the depth. */
  cutInto(fraction: number, depth = 100, seconds = 2): this {
    const n = Math.round((seconds / 2) * FPS);
    const steps = Math.round(n * (Math.acos(1 - 2 * fraction) / Math.PI));
    for (let i = 1; i <= steps; i++) this.values.push((depth * (1 - Math.cos((Math.PI * i) / n))) / 2);
    return this;
  }

  get time(): number[] {
    return this.values.map((_, i) => i / FPS);
  }
}

const counted = (s: ReturnType<typeof segmentReps>) => s.reps.filter((r) => r.counted);

describe('segmentReps', () => {
  it('counts 5 clean reps with the turn of each at its deepest point', () => {
    const sig = new Signal().rest(1);
    for (let k = 0; k < 5; k++) sig.rep();
    sig.rest(1);
    const result = segmentReps(sig.time, sig.values, OPTIONS);
    assert.equal(result.reps.length, 5);
    assert.equal(counted(result).length, 5);
    result.reps.forEach((r, k) => {
      assert.ok(
        Math.abs(r.turn - (sig.peaks[k] as number)) <= 1,
        `rep ${k + 1} turns at ${r.turn}, not ${sig.peaks[k]}`,
      );
      assert.ok(r.start < r.turn && r.turn < r.end);
    });
    assert.equal(result.noMovement, undefined);
  });

  it('still counts 5 reps, and no extra ones, when the signal carries 5° of random jitter', () => {
    for (const seed of [1, 2, 3, 4, 5, 42]) {
      const sig = new Signal().rest(1);
      for (let k = 0; k < 5; k++) sig.rep();
      sig.rest(1);
      const noise = gaussian(seed);
      const noisy = sig.values.map((v) => v + 5 * noise());
      const result = segmentReps(sig.time, noisy, OPTIONS);
      assert.equal(result.reps.length, 5, `seed ${seed}: ${result.reps.length} reps`);
      assert.equal(counted(result).length, 5, `seed ${seed}`);
      for (const [k, r] of result.reps.entries()) {
        assert.ok(Math.abs(r.turn - (sig.peaks[k] as number)) <= 3, `seed ${seed} rep ${k + 1}`);
      }
    }
  });

  it('counts the same 5 reps when the lifter rests 3 s between them or pauses at the bottom', () => {
    const sig = new Signal().rest(3);
    for (let k = 0; k < 5; k++) sig.rep(100, 2, k === 2 ? 2 : 0).rest(3);
    const result = segmentReps(sig.time, sig.values, OPTIONS);
    assert.equal(result.reps.length, 5);
    assert.equal(counted(result).length, 5);
    const paused = result.reps[2];
    assert.ok(paused && paused.turn >= (sig.peaks[2] as number) && paused.turn <= (sig.peaks[2] as number) + 2 * FPS);
    // The rest between reps is not part of them.
    for (const r of result.reps) assert.ok(r.end - r.start <= 4 * FPS + 2, `rep spans ${r.end - r.start} samples`);
  });

  it('does not count a rep already under way when the clip starts or one cut off when it ends', () => {
    const sig = new Signal();
    // Starts at the bottom: only the way back up is seen.
    for (let i = 0; i <= FPS; i++) sig.values.push(50 * (1 + Math.cos((Math.PI * i) / FPS)));
    sig.rest(1);
    for (let k = 0; k < 3; k++) sig.rep().rest(1);
    sig.cutInto(0.75);
    const result = segmentReps(sig.time, sig.values, OPTIONS);
    assert.equal(result.reps.length, 5);
    const [first, ...rest] = result.reps;
    const last = rest.pop();
    assert.equal(first?.counted, false);
    assert.match(first?.reason ?? '', /already under way/);
    assert.equal(last?.counted, false);
    assert.match(last?.reason ?? '', /not finished/);
    assert.deepEqual(
      rest.map((r) => r.counted),
      [true, true, true],
    );
  });

  it('finds no reps in a clip of someone standing still, and says why', () => {
    const noise = gaussian(7);
    const values = Array.from({ length: 10 * FPS }, () => 10 + 5 * noise());
    const result = segmentReps(
      values.map((_, i) => i / FPS),
      values,
      OPTIONS,
    );
    assert.equal(result.reps.length, 0);
    assert.match(result.noMovement ?? '', /under the 45° a repetition needs/);
  });

  it('does not count a rep whose turn the camera lost: the halves on either side of the gap are partial', () => {
    const sig = new Signal().rest(1);
    for (let k = 0; k < 5; k++) sig.rep().rest(1);
    const peak = sig.peaks[2] as number;
    const values = sig.values.map((v, i) => (Math.abs(i - peak) <= 2 ? Number.NaN : v));
    const result = segmentReps(sig.time, values, OPTIONS);
    assert.equal(counted(result).length, 4);
    const halves = result.reps.filter((r) => Math.abs(r.turn - peak) <= 3);
    assert.equal(halves.length, 2);
    assert.deepEqual(
      halves.map((h) => h.counted),
      [false, false],
    );
    assert.match(halves[0]?.reason ?? '', /not finished/);
    assert.match(halves[1]?.reason ?? '', /already under way/);
  });

  it('does not count a 12-second dip as a rep: it is a hold or drift', () => {
    const sig = new Signal().rest(1);
    sig.rep().rest(1).rep(100, 12).rest(1).rep().rest(1);
    const result = segmentReps(sig.time, sig.values, OPTIONS);
    assert.deepEqual(
      result.reps.map((r) => r.counted),
      [true, false, true],
    );
    assert.match(result.reps[1]?.reason ?? '', /too slow/);
  });

  it('does not count a shallow rep among deep ones', () => {
    const sig = new Signal().rest(1);
    for (const depth of [80, 80, 46, 80, 80]) sig.rep(depth).rest(1);
    const result = segmentReps(sig.time, sig.values, OPTIONS);
    assert.deepEqual(
      result.reps.map((r) => r.counted),
      [true, true, false, true, true],
    );
    assert.match(result.reps[2]?.reason ?? '', /turn too shallow \(46° of 50° needed\)/);
  });
});
