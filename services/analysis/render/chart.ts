/**
 * Angle-over-time charts for the report: one line per series, each repetition shaded
 * (counted reps numbered, partial ones marked "partial"), gaps in tracking left as gaps.
 */
import { createCanvas, type SKRSContext2D } from '@napi-rs/canvas';
import { EngineError } from '../errors.js';
import { SERIES_PALETTE } from './colors.js';
import { font } from './fonts.js';
import { niceStep, stepDecimals, ticksBetween } from './ticks.js';

/** One repetition to shade. Times are seconds on the same clock as the chart's `time`. */
export interface ChartRep {
  /** The rep's number as shown to the user (1-based), drawn above counted reps. */
  index: number;
  start: number;
  turn: number;
  end: number;
  counted: boolean;
}

export interface ChartSeries {
  name: string;
  /** One value per entry of `time`; NaN where the body was not tracked (drawn as a gap). */
  values: ArrayLike<number>;
}

export interface AngleChartOptions {
  title: string;
  yLabel: string;
  /** Sample times in seconds. */
  time: Float64Array | number[];
  series: ChartSeries[];
  reps: ChartRep[];
  /** PNG size in pixels; default 960 × 400. */
  width?: number;
  height?: number;
}

/** Where things go on the chart, and the data → pixel mapping. */
export interface ChartLayout {
  width: number;
  height: number;
  fontSize: number;
  plot: { left: number; top: number; right: number; bottom: number };
  xMin: number;
  xMax: number;
  yMin: number;
  yMax: number;
  xTicks: number[];
  yTicks: number[];
  xOf(seconds: number): number;
  yOf(value: number): number;
}

const REP_FILL = { counted: 'rgba(46, 160, 67, 0.16)', partial: 'rgba(120, 120, 120, 0.16)' } as const;
const INK = { text: '#222222', muted: '#666666', grid: '#e6e6e6', axis: '#444444', counted: '#1e7b34' } as const;

/** Computes the chart's layout without drawing; {@link renderAngleChart} draws on it. */
export function layoutAngleChart(opts: AngleChartOptions): ChartLayout {
  const width = opts.width ?? 960;
  const height = opts.height ?? 400;
  for (const [name, value] of [
    ['width', width],
    ['height', height],
  ] as const) {
    if (!Number.isInteger(value) || value < 100 || value > 8192) {
      throw new EngineError('INVALID_OPTIONS', `Chart ${name} must be an integer from 100 to 8192.`, { [name]: value });
    }
  }
  const fontSize = Math.round(Math.min(16, Math.max(10, Math.min(width / 60, height / 28))));
  // Header (title + legend), then a strip for rep numbers, then the plot.
  const plot = {
    left: Math.round(fontSize * 5),
    top: Math.round(fontSize * 3.6),
    right: width - Math.round(fontSize * 1.5),
    bottom: height - Math.round(fontSize * 3.4),
  };

  let tMin = Number.POSITIVE_INFINITY;
  let tMax = Number.NEGATIVE_INFINITY;
  for (const t of opts.time) {
    if (Number.isFinite(t)) {
      tMin = Math.min(tMin, t);
      tMax = Math.max(tMax, t);
    }
  }
  if (!Number.isFinite(tMin)) [tMin, tMax] = [0, 1];
  if (tMax <= tMin) tMax = tMin + 1;

  let vMin = Number.POSITIVE_INFINITY;
  let vMax = Number.NEGATIVE_INFINITY;
  for (const { values } of opts.series) {
    for (let i = 0; i < values.length; i += 1) {
      const v = values[i] as number;
      if (Number.isFinite(v)) {
        vMin = Math.min(vMin, v);
        vMax = Math.max(vMax, v);
      }
    }
  }
  if (!Number.isFinite(vMin)) [vMin, vMax] = [0, 180];
  const pad = Math.max(2, (vMax - vMin) * 0.08);
  const yStep = niceStep(vMax - vMin + 2 * pad, Math.max(3, Math.floor((plot.bottom - plot.top) / (fontSize * 3))));
  let yMin = Math.floor((vMin - pad) / yStep) * yStep;
  const yMax = Math.ceil((vMax + pad) / yStep) * yStep;
  // Interior angles are never negative: don't waste space below 0 for them.
  if (vMin >= 0 && yMin < 0) yMin = 0;

  const xStep = niceStep(tMax - tMin, Math.max(2, Math.floor((plot.right - plot.left) / (fontSize * 6))));
  const xOf = (t: number) => plot.left + ((t - tMin) / (tMax - tMin)) * (plot.right - plot.left);
  const yOf = (v: number) => plot.bottom - ((v - yMin) / (yMax - yMin)) * (plot.bottom - plot.top);
  return {
    width,
    height,
    fontSize,
    plot,
    xMin: tMin,
    xMax: tMax,
    yMin,
    yMax,
    xTicks: ticksBetween(tMin, tMax, xStep),
    yTicks: ticksBetween(yMin, yMax, yStep),
    xOf,
    yOf,
  };
}

/** Renders the chart and returns PNG bytes. Synchronous: pure drawing, no I/O. */
export function renderAngleChart(opts: AngleChartOptions): Buffer {
  const layout = layoutAngleChart(opts);
  const canvas = createCanvas(layout.width, layout.height);
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, layout.width, layout.height);
  drawReps(ctx, layout, opts.reps);
  drawAxes(ctx, layout, opts.yLabel);
  drawSeries(ctx, layout, opts);
  drawHeader(ctx, layout, opts);
  return canvas.toBuffer('image/png');
}

function drawReps(ctx: SKRSContext2D, layout: ChartLayout, reps: ChartRep[]): void {
  const { plot, fontSize } = layout;
  ctx.save();
  for (const rep of reps) {
    const x0 = Math.max(plot.left, layout.xOf(Math.min(rep.start, rep.end)));
    const x1 = Math.min(plot.right, layout.xOf(Math.max(rep.start, rep.end)));
    if (!(x1 > x0)) continue;
    ctx.fillStyle = rep.counted ? REP_FILL.counted : REP_FILL.partial;
    ctx.fillRect(x0, plot.top, x1 - x0, plot.bottom - plot.top);
    // The turning point (bottom of a squat, top of a press) as a dashed line.
    const xt = layout.xOf(rep.turn);
    if (xt >= x0 && xt <= x1) {
      ctx.strokeStyle = rep.counted ? INK.counted : INK.muted;
      ctx.globalAlpha = 0.5;
      ctx.setLineDash([4, 4]);
      ctx.lineWidth = 1;
      ctx.beginPath();
      ctx.moveTo(xt, plot.top);
      ctx.lineTo(xt, plot.bottom);
      ctx.stroke();
      ctx.setLineDash([]);
      ctx.globalAlpha = 1;
    }
    ctx.textAlign = 'center';
    ctx.textBaseline = 'bottom';
    ctx.fillStyle = rep.counted ? INK.counted : INK.muted;
    ctx.font = rep.counted ? font(fontSize, 'bold') : font(fontSize * 0.85);
    ctx.fillText(rep.counted ? String(rep.index) : 'partial', (x0 + x1) / 2, plot.top - 3);
  }
  ctx.restore();
}

function drawAxes(ctx: SKRSContext2D, layout: ChartLayout, yLabel: string): void {
  const { plot, fontSize } = layout;
  ctx.save();
  ctx.lineWidth = 1;
  ctx.font = font(fontSize * 0.85);
  ctx.fillStyle = INK.muted;
  const yDecimals = stepDecimals((layout.yTicks[1] ?? 1) - (layout.yTicks[0] ?? 0));
  ctx.textAlign = 'right';
  ctx.textBaseline = 'middle';
  for (const v of layout.yTicks) {
    const y = Math.round(layout.yOf(v)) + 0.5;
    ctx.strokeStyle = INK.grid;
    ctx.beginPath();
    ctx.moveTo(plot.left, y);
    ctx.lineTo(plot.right, y);
    ctx.stroke();
    ctx.fillText(`${v.toFixed(yDecimals)}°`, plot.left - 6, y);
  }
  const xDecimals = stepDecimals((layout.xTicks[1] ?? 1) - (layout.xTicks[0] ?? 0));
  ctx.textAlign = 'center';
  ctx.textBaseline = 'top';
  for (const t of layout.xTicks) {
    const x = Math.round(layout.xOf(t)) + 0.5;
    ctx.strokeStyle = INK.axis;
    ctx.beginPath();
    ctx.moveTo(x, plot.bottom);
    ctx.lineTo(x, plot.bottom + 5);
    ctx.stroke();
    ctx.fillText(t.toFixed(xDecimals), x, plot.bottom + 7);
  }
  ctx.strokeStyle = INK.axis;
  ctx.strokeRect(plot.left + 0.5, plot.top + 0.5, plot.right - plot.left, plot.bottom - plot.top);
  ctx.fillStyle = INK.text;
  ctx.font = font(fontSize * 0.9);
  ctx.fillText('Time (s)', (plot.left + plot.right) / 2, plot.bottom + fontSize * 1.9);
  ctx.translate(fontSize * 0.9, (plot.top + plot.bottom) / 2);
  ctx.rotate(-Math.PI / 2);
  ctx.textBaseline = 'middle';
  ctx.fillText(yLabel, 0, 0);
  ctx.restore();
}

function drawSeries(ctx: SKRSContext2D, layout: ChartLayout, opts: AngleChartOptions): void {
  const { plot } = layout;
  ctx.save();
  ctx.beginPath();
  ctx.rect(plot.left, plot.top, plot.right - plot.left, plot.bottom - plot.top);
  ctx.clip();
  ctx.lineWidth = Math.max(1.5, layout.fontSize / 7);
  ctx.lineJoin = 'round';
  let anyPoint = false;
  opts.series.forEach((series, s) => {
    const colour = SERIES_PALETTE[s % SERIES_PALETTE.length] as string;
    ctx.strokeStyle = colour;
    ctx.fillStyle = colour;
    const n = Math.min(series.values.length, opts.time.length);
    let run = 0;
    let lastX = 0;
    let lastY = 0;
    // A lone sample between two gaps has no line to show it, so it gets a dot.
    const endRun = () => {
      if (run === 1) {
        ctx.beginPath();
        ctx.arc(lastX, lastY, ctx.lineWidth, 0, Math.PI * 2);
        ctx.fill();
      } else if (run > 1) {
        ctx.stroke();
      }
      run = 0;
    };
    for (let i = 0; i < n; i += 1) {
      const t = opts.time[i] as number;
      const v = series.values[i] as number;
      if (!Number.isFinite(t) || !Number.isFinite(v)) {
        endRun();
        continue;
      }
      lastX = layout.xOf(t);
      lastY = layout.yOf(v);
      if (run === 0) {
        ctx.beginPath();
        ctx.moveTo(lastX, lastY);
      } else {
        ctx.lineTo(lastX, lastY);
      }
      run += 1;
      anyPoint = true;
    }
    endRun();
  });
  ctx.restore();
  if (!anyPoint) {
    ctx.save();
    ctx.fillStyle = INK.muted;
    ctx.font = font(layout.fontSize);
    ctx.textAlign = 'center';
    ctx.textBaseline = 'middle';
    ctx.fillText('No angle data: the body was not tracked', (plot.left + plot.right) / 2, (plot.top + plot.bottom) / 2);
    ctx.restore();
  }
}

/** Title on the left, legend on the right of the top row. */
function drawHeader(ctx: SKRSContext2D, layout: ChartLayout, opts: AngleChartOptions): void {
  const { fontSize, plot } = layout;
  const y = fontSize * 1.2;
  ctx.save();
  ctx.textBaseline = 'middle';
  ctx.font = font(fontSize * 0.85);
  const swatch = fontSize * 1.6;
  const gap = fontSize * 0.4;
  const itemWidths = opts.series.map((series) => swatch + gap + ctx.measureText(series.name).width);
  const legendWidth = itemWidths.reduce((sum, w) => sum + w, 0) + fontSize * (opts.series.length - 1);
  let x = plot.right - legendWidth;
  opts.series.forEach((series, s) => {
    const colour = SERIES_PALETTE[s % SERIES_PALETTE.length] as string;
    ctx.strokeStyle = colour;
    ctx.lineWidth = 3;
    ctx.beginPath();
    ctx.moveTo(x, y);
    ctx.lineTo(x + swatch, y);
    ctx.stroke();
    ctx.fillStyle = INK.text;
    ctx.textAlign = 'left';
    ctx.fillText(series.name, x + swatch + gap, y);
    x += (itemWidths[s] ?? 0) + fontSize;
  });
  ctx.font = font(fontSize * 1.1, 'bold');
  ctx.fillStyle = INK.text;
  ctx.textAlign = 'left';
  // Squeeze the title rather than let it run under the legend.
  const room = Math.max(fontSize * 4, plot.right - legendWidth - fontSize - fontSize * 0.5);
  ctx.fillText(opts.title, fontSize * 0.5, y, room);
  ctx.restore();
}
