/** The human-readable summary `nfc analyze` prints after an analysis. */
import type { Report } from '../analysis/report/schema.js';

export function formatSummary(report: Report): string {
  const lines: string[] = [];
  const s = report.summary;
  const exercise = s.exercise ?? 'no exercise detected';
  lines.push(`${report.video.file}`);
  lines.push(
    `  ${exercise} · ${s.reps} rep${s.reps === 1 ? '' : 's'}${s.partialReps ? ` (+${s.partialReps} partial)` : ''} · view ${report.analysis.view} · ${report.video.durationSeconds.toFixed(1)} s · backend ${report.engine.backend}`,
  );
  lines.push(`  ${s.message}`);
  if (report.reps.length > 0) {
    lines.push('');
    lines.push('  rep   start    turn     end   down(s)  up(s)  ROM(°)  angle(°)  note');
    for (const rep of report.reps) {
      lines.push(
        `  ${String(rep.number ?? '-').padStart(3)} ${rep.startSeconds.toFixed(1).padStart(7)} ${rep.turnSeconds.toFixed(1).padStart(7)} ${rep.endSeconds.toFixed(1).padStart(7)} ${rep.eccentricSeconds.toFixed(2).padStart(8)} ${rep.concentricSeconds.toFixed(2).padStart(6)} ${String(rep.rangeOfMotionDegrees).padStart(7)} ${String(rep.turnAngleDegrees).padStart(9)}  ${rep.counted ? '' : `partial: ${rep.partialReason ?? ''}`}`,
      );
    }
  }
  lines.push('');
  if (report.faults.length === 0) lines.push(s.reps > 0 ? '  Form: no faults found.' : '  Form: nothing to assess.');
  for (const fault of report.faults) {
    lines.push(
      `  ! ${fault.title} [${fault.severity}] in rep${fault.reps.length > 1 ? 's' : ''} ${fault.reps.join(', ')}: ${fault.cue}`,
    );
  }
  for (const skipped of report.faultsNotChecked) lines.push(`  · not checked: ${skipped.id} (${skipped.reason})`);
  if (report.score.value !== null) {
    lines.push('');
    lines.push(`  Score: ${report.score.value}/100`);
    for (const d of report.score.deductions) lines.push(`    −${d.points}  ${d.reason}`);
  }
  lines.push('');
  lines.push(`  Report:     ${report.files.report}`);
  lines.push(`  Frames CSV: ${report.files.framesCsv}`);
  if (report.files.chart) lines.push(`  Chart:      ${report.files.chart}`);
  if (report.files.thumbnails.length > 0)
    lines.push(
      `  Thumbnails: ${report.files.thumbnails.length} in ${report.files.thumbnails[0]?.replace(/\/[^/]+$/, '/')}`,
    );
  if (report.files.annotatedVideo) lines.push(`  Video:      ${report.files.annotatedVideo}`);
  return lines.join('\n');
}
