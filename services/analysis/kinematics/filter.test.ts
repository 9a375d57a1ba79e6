import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { butterworthLowPass, fillShortGaps, zeroPhaseLowPass } from './filter.js';

const FPS = 15;
const sine = (hz: number, seconds: number, phaseSeconds = 0) =>
  Float64Array.from({ length: Math.round(seconds * FPS) + 1 }, (_, i) =>
    Math.cos(2 * Math.PI * hz * (i / FPS - phaseSeconds)),
  );

function argmax(a: ArrayLike<number>, from: number, to: number): number {
  let best = from;
  for (let i = from; i < to; i++) if ((a[i] as number) > (a[best] as number)) best = i;
  return best;
}

function peakAbs(a: ArrayLike<number>, from: number, to: number): number {
  let m = 0;
  for (let i = from; i < to; i++) m = Math.max(m, Math.abs(a[i] as number));
  return m;
}

describe('butterworthLowPass', () => {
  it('passes a steady value unchanged (DC gain 1)', () => {
    for (const [cutoff, rate] of [
      [3, 15],
      [3, 30],
      [1, 60],
      [6, 15],
    ] as const) {
      const { b, a } = butterworthLowPass(cutoff, rate);
      const gain = (b[0] + b[1] + b[2]) / (a[0] + a[1] + a[2]);
      assert.ok(Math.abs(gain - 1) < 1e-12, `DC gain ${gain} at ${cutoff}/${rate} Hz`);
    }
  });

  it('refuses a cutoff at or above the Nyquist frequency', () => {
    assert.throws(() => butterworthLowPass(7.5, 15), RangeError);
    assert.throws(() => butterworthLowPass(0, 15), RangeError);
  });
});

describe('zeroPhaseLowPass', () => {
  it('keeps slow exercise motion (0.5 Hz) at full height and does not delay its peak', () => {
    const x = sine(0.5, 10, 5); // peaks at 1, 3, 5, 7, 9 s
    const y = zeroPhaseLowPass(x, 3, FPS);
    const middle = [2 * FPS, 8 * FPS] as const;
    assert.ok(peakAbs(y, ...middle) >= 0.95, `amplitude ${peakAbs(y, ...middle)}`);
    const truePeak = 5 * FPS;
    const window = [truePeak - FPS, truePeak + FPS] as const;
    assert.equal(argmax(x, ...window), truePeak);
    const peak = argmax(y, ...window);
    assert.ok(Math.abs(peak - truePeak) <= 1, `peak moved to ${peak}`);
    // Finer than a sample: a one-way (causal) filter would put the parabola's vertex ~1 sample late.
    const [l, c, r] = [y[peak - 1], y[peak], y[peak + 1]] as [number, number, number];
    const vertex = peak + (0.5 * (l - r)) / (l - 2 * c + r);
    assert.ok(Math.abs(vertex - truePeak) < 0.1, `sub-sample peak at ${vertex}`);
  });

  it('suppresses fast keypoint jitter (6 Hz) to under 30%', () => {
    const y = zeroPhaseLowPass(sine(6, 10), 3, FPS);
    assert.ok(peakAbs(y, 2 * FPS, 8 * FPS) < 0.3, `amplitude ${peakAbs(y, 2 * FPS, 8 * FPS)}`);
  });

  it('leaves a constant signal constant', () => {
    const y = zeroPhaseLowPass(new Float64Array(40).fill(123.5), 3, FPS);
    for (const v of y) assert.ok(Math.abs(v - 123.5) < 1e-9, String(v));
  });

  it('keeps gaps as gaps and filters each seen stretch on its own', () => {
    const x: number[] = [
      ...Array(20).fill(10),
      ...Array(5).fill(Number.NaN),
      ...Array(20).fill(100),
      Number.NaN,
      1,
      50,
      2,
    ];
    const y = zeroPhaseLowPass(x, 3, FPS);
    x.forEach((v, i) => {
      if (Number.isNaN(v)) assert.ok(Number.isNaN(y[i]), `sample ${i} should stay missing`);
    });
    // Had the filter run across the gap, the jump from 10 to 100 would bleed into both sides.
    for (let i = 0; i < 20; i++) assert.ok(Math.abs((y[i] as number) - 10) < 1e-9, `sample ${i}: ${y[i]}`);
    for (let i = 25; i < 45; i++) assert.ok(Math.abs((y[i] as number) - 100) < 1e-9, `sample ${i}: ${y[i]}`);
    // A stretch too short to filter is left as seen.
    assert.deepEqual(Array.from(y.subarray(46)), [1, 50, 2]);
  });
});

describe('fillShortGaps', () => {
  const gap = Number.NaN;

  it('bridges a short gap with a straight line', () => {
    assert.deepEqual(Array.from(fillShortGaps([0, gap, gap, 3], 2)), [0, 1, 2, 3]);
    assert.deepEqual(Array.from(fillShortGaps([10, gap, 20, gap, gap, 50], 2)), [10, 15, 20, 30, 40, 50]);
  });

  it('leaves a gap longer than allowed missing', () => {
    const y = fillShortGaps([0, gap, gap, gap, 4], 2);
    assert.equal(y[0], 0);
    assert.ok([1, 2, 3].every((i) => Number.isNaN(y[i])));
    assert.equal(y[4], 4);
  });

  it('never invents samples before the first or after the last one seen', () => {
    const y = fillShortGaps([gap, 1, 2, gap], 5);
    assert.ok(Number.isNaN(y[0]) && Number.isNaN(y[3]));
    assert.deepEqual([y[1], y[2]], [1, 2]);
  });
});
