/**
 * "Nice" axis ticks (steps of 1, 2, 2.5 or 5 × 10ⁿ), so axes read 0, 30, 60… rather than
 * 0, 27.3, 54.6….
 */

/** The nice step that splits `span` into about `target` intervals. */
export function niceStep(span: number, target: number): number {
  if (!(span > 0) || !Number.isFinite(span)) return 1;
  const raw = span / Math.max(1, target);
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const n = raw / magnitude;
  const factor = n <= 1 ? 1 : n <= 2 ? 2 : n <= 2.5 ? 2.5 : n <= 5 ? 5 : 10;
  return factor * magnitude;
}

/** Decimal places needed to print multiples of `step` exactly. */
export function stepDecimals(step: number): number {
  const text = Number(step.toPrecision(12)).toString();
  const dot = text.indexOf('.');
  return dot < 0 ? 0 : text.length - dot - 1;
}

/** Multiples of `step` within [min, max], rounded so 0.1 + 0.2 prints as 0.3. */
export function ticksBetween(min: number, max: number, step: number): number[] {
  const decimals = stepDecimals(step);
  const ticks: number[] = [];
  const first = Math.ceil(min / step - 1e-9);
  for (let k = first; k * step <= max + step * 1e-9; k += 1) {
    ticks.push(Number((k * step).toFixed(decimals)));
    if (ticks.length > 1000) break;
  }
  return ticks;
}
