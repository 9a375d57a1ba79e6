/**
 * The engine on every real clip of ../shared/data: the rep count must equal the hand count,
 * both with the exercise named and with `auto` (through the CLI's --json), and the walking
 * clip must give 0 reps. The files a user gets are checked on the way.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Value } from '@sinclair/typebox/value';
import { analyzeVideo } from '../services/analysis/pipeline.js';
import { type Report, ReportSchema } from '../services/analysis/report/schema.js';
import type { Exercise } from '../services/analysis/reps/exercises.js';
import { loadClips } from './support/clips.js';
import { runCli } from './support/run-cli.js';

const clips = loadClips();
let work: string;
before(async () => {
  work = await mkdtemp(join(tmpdir(), 'nfc-clips-'));
});
after(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('rep counts on real clips, exercise given', () => {
  for (const clip of clips) {
    // The walking clip has no exercise; asking for squats must still find none.
    const exercise = (clip.exercise === 'walking' ? 'squat' : clip.exercise) as Exercise;
    it(`${clip.file}: ${clip.reps} ${exercise} reps`, async () => {
      const outDir = join(work, `given-${clip.file}`);
      const report = await analyzeVideo(clip.path, { exercise, outDir });
      assert.equal(report.summary.reps, clip.reps, reportDigest(report));
      assert.equal(report.summary.exercise, exercise);
      assertArtifacts(report);
    });
  }
});

describe('rep counts on real clips, exercise detected (nfc analyze --json --exercise auto)', () => {
  for (const clip of clips) {
    const expected = clip.exercise === 'walking' ? null : clip.exercise;
    it(`${clip.file}: detected as ${expected ?? 'no exercise'} with ${clip.reps} reps`, async () => {
      const outDir = join(work, `auto-${clip.file}`);
      const result = await runCli(['analyze', clip.path, '--exercise', 'auto', '--json', '--out', outDir]);
      assert.equal(result.code, 0, result.stderr);
      const report = JSON.parse(result.stdout) as Report;
      assert.equal(report.summary.exercise, expected, reportDigest(report));
      assert.equal(report.summary.reps, clip.reps, reportDigest(report));
      if (expected === null) assert.match(report.summary.message, /no exercise/i);
    });
  }
});

function assertArtifacts(report: Report): void {
  assert.ok(Value.Check(ReportSchema, report), [...Value.Errors(ReportSchema, report)].map((e) => e.path).join(', '));
  assert.deepEqual(JSON.parse(readFileSync(report.files.report, 'utf8')).summary, report.summary);
  const csvRows = readFileSync(report.files.framesCsv, 'utf8').trim().split('\n');
  assert.equal(csvRows.length - 1, report.analysis.framesAnalysed);
  assert.equal(report.files.thumbnails.length, report.summary.reps);
  for (const png of report.files.thumbnails) assert.ok(existsSync(png), png);
  if (report.summary.reps > 0) assert.ok(report.files.chart && existsSync(report.files.chart));
  // Every counted rep has a plausible tempo and range.
  for (const rep of report.reps.filter((r) => r.counted)) {
    assert.ok(rep.eccentricSeconds > 0.1 && rep.concentricSeconds > 0.1, JSON.stringify(rep));
    assert.ok(rep.rangeOfMotionDegrees >= 35, JSON.stringify(rep));
  }
}

function reportDigest(report: Report): string {
  const reps = report.reps.map(
    (r) => `${r.startSeconds}-${r.turnSeconds}-${r.endSeconds}${r.counted ? '' : ` partial(${r.partialReason})`}`,
  );
  return `${report.summary.message} | reps: ${reps.join('; ')} | candidates: ${JSON.stringify(report.analysis.autoDetection ?? [])}`;
}
