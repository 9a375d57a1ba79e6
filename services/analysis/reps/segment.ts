/**
 * Repetition segmentation on a driving signal with hysteresis. The signal is an
 * "excursion": near 0 at rest, high at the turning point. A rep starts when the signal
 * leaves rest, turns once it has crossed the upper threshold, and ends when it is back
 * below the lower threshold; jitter between the two thresholds can't make extra reps.
 * Thresholds come from the clip's own range, so a shallow-but-consistent set still counts,
 * and absolute minimums keep idle fidgeting, walking or noise from ever counting.
 */

export interface SegmentOptions {
  /** Smallest rest-to-turn range of the whole set, in signal units (degrees). */
  minRange: number;
  /** The turn must reach at least this excursion. */
  minTurn: number;
  /** Shortest and longest plausible repetition, in seconds. */
  minRepSeconds: number;
  maxRepSeconds: number;
  /** Upper/lower thresholds as fractions of the clip's range above its rest level. */
  enterFraction: number;
  exitFraction: number;
  /** Each side of the turn must cover this fraction of the rep's range, or it is partial. */
  minSideCoverage: number;
}

export const DEFAULT_SEGMENT_OPTIONS: Omit<SegmentOptions, 'minRange' | 'minTurn' | 'maxRepSeconds'> = {
  minRepSeconds: 0.6,
  enterFraction: 0.5,
  exitFraction: 0.25,
  minSideCoverage: 1 / 3,
};

export interface RepSegment {
  /** Sample indexes of the start, the turning point and the end. */
  start: number;
  turn: number;
  end: number;
  /** Counted reps are complete; partial ones were cut by the clip's edge or a gap. */
  counted: boolean;
  /** Why a partial rep was not counted. */
  reason?: string;
}

export interface Segmentation {
  reps: RepSegment[];
  restLevel: number;
  peakLevel: number;
  enterThreshold: number;
  exitThreshold: number;
  /** Set when no repetition could be found at all, with the reason. */
  noMovement?: string;
}

export function segmentReps(time: ArrayLike<number>, signal: ArrayLike<number>, options: SegmentOptions): Segmentation {
  const valid: number[] = [];
  for (let i = 0; i < signal.length; i++) if (!Number.isNaN(signal[i])) valid.push(signal[i] as number);
  if (valid.length < 3) {
    return { reps: [], restLevel: 0, peakLevel: 0, enterThreshold: 0, exitThreshold: 0, noMovement: 'body not seen' };
  }
  valid.sort((a, b) => a - b);
  const restLevel = quantile(valid, 0.05);
  const peakLevel = quantile(valid, 0.98);
  const range = peakLevel - restLevel;
  const enterThreshold = restLevel + options.enterFraction * range;
  const exitThreshold = restLevel + options.exitFraction * range;
  const levels = { restLevel, peakLevel, enterThreshold, exitThreshold };
  if (range < options.minRange) {
    return {
      reps: [],
      ...levels,
      noMovement: `the movement spans ${Math.round(range)}°, under the ${options.minRange}° a repetition needs`,
    };
  }
  const reps: RepSegment[] = [];
  for (const [from, to] of validRuns(signal)) segmentRun(time, signal, from, to, levels, options, reps);
  return { reps, ...levels };
}

interface Levels {
  restLevel: number;
  exitThreshold: number;
  enterThreshold: number;
}

/** Hysteresis state machine over one run of samples without gaps ([from, to)). */
function segmentRun(
  time: ArrayLike<number>,
  s: ArrayLike<number>,
  from: number,
  to: number,
  levels: Levels,
  options: SegmentOptions,
  out: RepSegment[],
): void {
  const at = (i: number) => s[i] as number;
  let searchFrom = from;
  let i = from;
  while (i < to) {
    if (at(i) < levels.enterThreshold) {
      i++;
      continue;
    }
    const start = findStart(s, searchFrom, i, levels);
    let turn = i;
    while (i < to && at(i) > levels.exitThreshold) {
      if (at(i) > at(turn)) turn = i;
      i++;
    }
    const returned = i < to;
    let end = returned ? i : to - 1;
    // Follow the return down to where the motion settles (within the settle band of rest).
    const settled = levels.restLevel + SETTLE_FRACTION * (levels.enterThreshold - levels.restLevel);
    while (returned && end + 1 < to && at(end) > settled && at(end + 1) <= at(end)) end++;
    out.push(judge(time, s, { start, turn, end }, levels, options, { startsAtEdge: start === from, returned }));
    searchFrom = end;
    i = end + 1;
  }
}

/**
 * The rep began where the signal last left the rest zone before crossing into the rep at
 * `crossing`, followed back while it keeps falling (so idle time before is not included).
 * With no rest zone since `from`, it began at the lowest point seen.
 */
function findStart(s: ArrayLike<number>, from: number, crossing: number, levels: Levels): number {
  let j = crossing;
  while (j > from && (s[j] as number) > levels.exitThreshold) j--;
  if ((s[j] as number) > levels.exitThreshold) return argExtreme(s, from, crossing + 1, 'min');
  const settled = levels.restLevel + SETTLE_FRACTION * (levels.enterThreshold - levels.restLevel);
  while (j > from && (s[j] as number) > settled && (s[j - 1] as number) <= (s[j] as number)) j--;
  return j;
}

/** A rep's start and end stop within this fraction (of rest→enter) of the rest level. */
const SETTLE_FRACTION = 0.2;

function judge(
  time: ArrayLike<number>,
  s: ArrayLike<number>,
  rep: { start: number; turn: number; end: number },
  levels: Levels,
  options: SegmentOptions,
  edges: { startsAtEdge: boolean; returned: boolean },
): RepSegment {
  const peak = s[rep.turn] as number;
  const ownRange = peak - levels.restLevel;
  const approach = peak - (s[rep.start] as number);
  const ret = peak - (s[rep.end] as number);
  const duration = (time[rep.end] as number) - (time[rep.start] as number);
  const partial = (reason: string): RepSegment => ({ ...rep, counted: false, reason });
  if (approach < options.minSideCoverage * ownRange) {
    return partial(
      edges.startsAtEdge ? 'already under way when the video (or the view) starts' : 'starts too close to the turn',
    );
  }
  if (ret < options.minSideCoverage * ownRange) {
    return partial(edges.returned ? 'does not come back far enough' : 'not finished when the video (or the view) ends');
  }
  if (peak < options.minTurn) return partial(`turn too shallow (${Math.round(peak)}° of ${options.minTurn}° needed)`);
  if (Math.max(approach, ret) < options.minRange) return partial('range of motion too small');
  if (duration < options.minRepSeconds) return partial('too fast to be a repetition');
  if (duration > options.maxRepSeconds) return partial('too slow: a hold or drift, not a repetition');
  return { ...rep, counted: true };
}

/** [from, to) index ranges of consecutive non-NaN samples. */
export function validRuns(s: ArrayLike<number>): Array<[number, number]> {
  const runs: Array<[number, number]> = [];
  let i = 0;
  while (i < s.length) {
    while (i < s.length && Number.isNaN(s[i])) i++;
    const from = i;
    while (i < s.length && !Number.isNaN(s[i])) i++;
    if (i > from) runs.push([from, i]);
  }
  return runs;
}

function argExtreme(s: ArrayLike<number>, from: number, to: number, kind: 'min' | 'max'): number {
  let best = from;
  for (let i = from; i < to; i++) {
    const v = s[i] as number;
    if (Number.isNaN(v)) continue;
    const b = s[best] as number;
    if (Number.isNaN(b) || (kind === 'min' ? v < b : v > b)) best = i;
  }
  return best;
}

/** Linear-interpolated quantile of an ascending array. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  const a = sorted[lo] as number;
  const b = sorted[hi] as number;
  return a + (b - a) * (pos - lo);
}
