import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type AngleChartOptions, layoutAngleChart, renderAngleChart } from './chart.js';
import { colourDistance, decodePng, pixel, type Rgba } from './test-helpers.js';

const WHITE = [255, 255, 255];
/** The first two series colours (left orange, right blue). */
const LEFT = [0xff, 0x8c, 0x1a];
const RIGHT = [0x1e, 0xb4, 0xff];

/** 10 s at 10 Hz: three knee bends, tracking lost from 4.5 s to 5.5 s. */
function squatChart(overrides: Partial<AngleChartOptions> = {}): AngleChartOptions {
  const time = Array.from({ length: 101 }, (_, i) => i / 10);
  const knee = time.map((t) => (t > 4.5 && t < 5.5 ? Number.NaN : 170 - 40 * (1 - Math.cos((2 * Math.PI * t) / 3))));
  return {
    title: 'Knee angle',
    yLabel: 'Degrees',
    time,
    series: [
      { name: 'left knee', values: knee },
      { name: 'right knee', values: knee.map((v) => v - 5) },
    ],
    reps: [
      { index: 1, start: 0.2, turn: 1.5, end: 2.8, counted: true },
      { index: 2, start: 3.2, turn: 4.5, end: 5.8, counted: false },
      { index: 2, start: 6.2, turn: 7.5, end: 8.8, counted: true },
    ],
    width: 800,
    height: 320,
    ...overrides,
  };
}

describe('renderAngleChart', () => {
  it('returns a PNG of the requested size', async () => {
    const image = await decodePng(renderAngleChart(squatChart()));
    assert.deepEqual([image.width, image.height], [800, 320]);
    const byDefault = await decodePng(renderAngleChart(squatChart({ width: undefined, height: undefined })));
    assert.deepEqual([byDefault.width, byDefault.height], [960, 400]);
  });

  it('shades counted and partial reps differently from the rest of the plot', async () => {
    const layout = layoutAngleChart(squatChart());
    const shaded = await decodePng(renderAngleChart(squatChart()));
    const plain = await decodePng(renderAngleChart(squatChart({ reps: [] })));
    const xCounted = Math.round(layout.xOf(0.6));
    const xPartial = Math.round(layout.xOf(3.6));
    const xOutside = Math.round(layout.xOf(3.0));
    // A row where, without reps, all three columns are bare background.
    const y = findRow(plain, layout.plot.top + 2, layout.plot.bottom - 2, [xCounted, xPartial, xOutside]);
    assert.deepEqual(pixel(shaded, xOutside, y), WHITE, 'between reps stays white');
    assert.notDeepEqual(pixel(shaded, xCounted, y), WHITE, 'counted rep is shaded');
    assert.notDeepEqual(pixel(shaded, xPartial, y), WHITE, 'partial rep is shaded');
    assert.ok(colourDistance(pixel(shaded, xCounted, y), pixel(shaded, xPartial, y)) > 20, 'partial looks different');
  });

  it('labels reps above the plot: counted ones by number', async () => {
    const layout = layoutAngleChart(squatChart());
    const shaded = await decodePng(renderAngleChart(squatChart()));
    const plain = await decodePng(renderAngleChart(squatChart({ reps: [] })));
    const strip = { top: layout.plot.top - layout.fontSize - 4, bottom: layout.plot.top - 1 };
    const around = (t: number) => [Math.round(layout.xOf(t)) - 30, Math.round(layout.xOf(t)) + 30] as const;
    for (const t of [1.5, 4.5, 7.5]) {
      const [x0, x1] = around(t);
      assert.ok(inkIn(shaded, x0, x1, strip.top, strip.bottom) > 10, `label above the rep at ${t} s`);
      assert.equal(inkIn(plain, x0, x1, strip.top, strip.bottom), 0);
    }
    // "partial" is a longer word than "2".
    const [p0, p1] = around(4.5);
    const [c0, c1] = around(7.5);
    assert.ok(inkIn(shaded, p0, p1, strip.top, strip.bottom) > inkIn(shaded, c0, c1, strip.top, strip.bottom));
  });

  it('leaves a gap where tracking was lost', async () => {
    const options = squatChart({ reps: [] });
    const layout = layoutAngleChart(options);
    const image = await decodePng(renderAngleChart(options));
    // Count line-coloured pixels down one column of the plot.
    const lineInk = (t: number, colour: number[]) => {
      let n = 0;
      for (let y = layout.plot.top + 1; y < layout.plot.bottom; y += 1) {
        if (colourDistance(pixel(image, Math.round(layout.xOf(t)), y), colour) < 60) n += 1;
      }
      return n;
    };
    assert.ok(lineInk(3, LEFT) > 0 && lineInk(3, RIGHT) > 0, 'both lines drawn where tracked');
    assert.equal(lineInk(5, LEFT) + lineInk(5, RIGHT), 0, 'nothing drawn in the gap');
  });

  it('still renders axes when there is no data at all', async () => {
    const image = await decodePng(
      renderAngleChart(
        squatChart({ series: [{ name: 'knee', values: [Number.NaN, Number.NaN] }], time: [0, 1], reps: [] }),
      ),
    );
    assert.deepEqual([image.width, image.height], [800, 320]);
  });
});

function findRow(image: Rgba, from: number, to: number, xs: number[]): number {
  for (let y = from; y <= to; y += 1) {
    if (xs.every((x) => colourDistance(pixel(image, x, y), WHITE) === 0)) return y;
  }
  throw new Error('no bare background row found');
}

/** Non-white pixels in a rectangle. */
function inkIn(image: Rgba, x0: number, x1: number, y0: number, y1: number): number {
  let n = 0;
  for (let y = y0; y <= y1; y += 1) {
    for (let x = x0; x <= x1; x += 1) if (colourDistance(pixel(image, x, y), WHITE) > 60) n += 1;
  }
  return n;
}
