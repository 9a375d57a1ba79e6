/**
 * Zero-phase low-pass filtering: a 2nd-order Butterworth run forwards then backwards
 * (like SciPy's `filtfilt`), so peaks stay where they happened instead of lagging.
 * NaN marks missing samples; each run of valid samples is filtered on its own.
 */

export interface Biquad {
  b: [number, number, number];
  a: [number, number, number];
}

/** 2nd-order Butterworth low-pass coefficients (bilinear transform, pre-warped). */
export function butterworthLowPass(cutoffHz: number, sampleRateHz: number): Biquad {
  const nyquist = sampleRateHz / 2;
  if (!(cutoffHz > 0 && cutoffHz < nyquist)) {
    throw new RangeError(`cutoff ${cutoffHz} Hz must lie between 0 and the Nyquist frequency ${nyquist} Hz`);
  }
  const k = Math.tan((Math.PI * cutoffHz) / sampleRateHz);
  const norm = 1 / (1 + Math.SQRT2 * k + k * k);
  const b0 = k * k * norm;
  return {
    b: [b0, 2 * b0, b0],
    a: [1, 2 * (k * k - 1) * norm, (1 - Math.SQRT2 * k + k * k) * norm],
  };
}

function runBiquad({ b, a }: Biquad, x: Float64Array): Float64Array {
  const y = new Float64Array(x.length);
  // Start in the steady state for the first sample, so the output doesn't ring up from 0.
  const x0 = x[0] ?? 0;
  let x1 = x0;
  let x2 = x0;
  let y1 = x0;
  let y2 = x0;
  for (let i = 0; i < x.length; i++) {
    const xi = x[i] ?? 0;
    const yi = b[0] * xi + b[1] * x1 + b[2] * x2 - a[1] * y1 - a[2] * y2;
    y[i] = yi;
    x2 = x1;
    x1 = xi;
    y2 = y1;
    y1 = yi;
  }
  return y;
}

/** Forward-backward filtering of one run without gaps, with odd reflection padding at both ends. */
function filtfiltRun(filter: Biquad, x: Float64Array): Float64Array {
  const pad = Math.min(x.length - 1, 9);
  const first = x[0] ?? 0;
  const last = x[x.length - 1] ?? 0;
  const padded = new Float64Array(x.length + 2 * pad);
  for (let i = 0; i < pad; i++) {
    padded[i] = 2 * first - (x[pad - i] ?? first);
    padded[pad + x.length + i] = 2 * last - (x[x.length - 2 - i] ?? last);
  }
  padded.set(x, pad);
  const forward = runBiquad(filter, padded);
  forward.reverse();
  const backward = runBiquad(filter, forward);
  backward.reverse();
  return backward.subarray(pad, pad + x.length);
}

/**
 * Low-pass filters `signal` (NaN = missing) without shifting it in time. Runs shorter than
 * 4 samples are left as they are: too short to filter meaningfully.
 */
export function zeroPhaseLowPass(signal: ArrayLike<number>, cutoffHz: number, sampleRateHz: number): Float64Array {
  const filter = butterworthLowPass(cutoffHz, sampleRateHz);
  const out = Float64Array.from(signal);
  let start = 0;
  while (start < out.length) {
    while (start < out.length && Number.isNaN(out[start])) start++;
    let end = start;
    while (end < out.length && !Number.isNaN(out[end])) end++;
    if (end - start >= 4) out.set(filtfiltRun(filter, out.slice(start, end)), start);
    start = end;
  }
  return out;
}

/**
 * Fills gaps (NaN runs) of at most `maxGap` samples by linear interpolation between the
 * valid samples on either side. Longer gaps, and gaps at either end, stay NaN: inventing
 * motion the camera never saw would invent reps.
 */
export function fillShortGaps(signal: ArrayLike<number>, maxGap: number): Float64Array {
  const out = Float64Array.from(signal);
  let i = 0;
  while (i < out.length) {
    if (!Number.isNaN(out[i])) {
      i++;
      continue;
    }
    const gapStart = i;
    while (i < out.length && Number.isNaN(out[i])) i++;
    const before = gapStart - 1;
    const after = i;
    if (before < 0 || after >= out.length || after - gapStart > maxGap) continue;
    const from = out[before] as number;
    const to = out[after] as number;
    for (let j = gapStart; j < after; j++) out[j] = from + ((to - from) * (j - before)) / (after - before);
  }
  return out;
}
