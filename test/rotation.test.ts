/**
 * Phone videos are often stored sideways with a rotation flag. The engine must see them
 * upright: probe reports the displayed size, and decoded frames are turned the way a player
 * shows them (otherwise every vertical angle would be measured against the wrong axis).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { decodeFrames } from '../services/analysis/media/frames.js';
import { probeVideo } from '../services/analysis/media/probe.js';

let dir: string;
let rotated: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'nfc-rotation-'));
  const plain = join(dir, 'plain.mp4');
  rotated = join(dir, 'rotated.mp4');
  // Left half white, right half black, stored landscape, flagged to display rotated by 90°.
  const ffmpeg = (args: string[]) => execFileSync('ffmpeg', ['-v', 'error', '-y', ...args]);
  ffmpeg([
    '-f',
    'lavfi',
    '-i',
    'color=white:s=160x240:r=15,pad=320:240:0:0:black',
    '-t',
    '1',
    '-c:v',
    'libx264',
    '-pix_fmt',
    'yuv420p',
    plain,
  ]);
  ffmpeg(['-i', plain, '-c', 'copy', '-metadata:s:v', 'rotate=90', rotated]);
});
after(async () => rm(dir, { recursive: true, force: true }));

test('a video flagged as rotated is probed with its displayed (portrait) size', async () => {
  const info = await probeVideo(rotated);
  assert.equal(Math.abs(info.rotation), 90);
  assert.deepEqual([info.width, info.height], [240, 320]);
});

test('decoded frames are upright: the white half ends up at the top or bottom, not the side', async () => {
  const size = 64;
  for await (const frame of decodeFrames({ file: rotated, fps: 15, size })) {
    const mean = (x0: number, x1: number, y0: number, y1: number) => {
      let sum = 0;
      let n = 0;
      for (let y = y0; y < y1; y++)
        for (let x = x0; x < x1; x++) {
          sum += frame.rgb[(y * size + x) * 3] ?? 0;
          n++;
        }
      return sum / n;
    };
    // The portrait picture sits in the middle columns of the letterboxed square.
    const top = mean(24, 40, 2, 30);
    const bottom = mean(24, 40, 34, 62);
    const left = mean(0, 32, 0, 64);
    const right = mean(32, 64, 0, 64);
    assert.ok(Math.abs(top - bottom) > 150, `top ${top} vs bottom ${bottom}`);
    assert.ok(Math.abs(left - right) < 20, `left ${left} vs right ${right}`);
    break;
  }
});
