/**
 * Applies the fault rules to the counted reps and turns the findings into a 0–100 score.
 * The score starts at 100; each fault deducts its severity's weight scaled by the share of
 * reps it appeared in, and every deduction is listed so the score explains itself.
 */
import type { Kinematics } from '../kinematics/series.js';
import type { Exercise } from '../reps/exercises.js';
import type { Rep } from '../reps/find-reps.js';
import { FAULT_RULES, type Severity } from './rules.js';

export const SEVERITY_POINTS: Readonly<Record<Severity, number>> = { low: 5, moderate: 12, high: 20 };

export interface Fault {
  id: string;
  title: string;
  severity: Severity;
  /** Rep numbers it occurred in. */
  reps: number[];
  threshold: string;
  source: string;
  cue: string;
}

export interface Deduction {
  faultId: string;
  points: number;
  reason: string;
}

export interface Assessment {
  faults: Fault[];
  /** Rules that could not be checked (wrong camera view), with why. */
  notChecked: Array<{ id: string; reason: string }>;
  score: number | null;
  deductions: Deduction[];
}

export function assessForm(kin: Kinematics, exercise: Exercise, reps: readonly Rep[]): Assessment {
  const counted = reps.filter((r) => r.counted);
  const faults: Fault[] = [];
  const notChecked: Assessment['notChecked'] = [];
  for (const rule of FAULT_RULES[exercise]) {
    const eligible = rule.view ? counted.filter((r) => r.view === rule.view) : counted;
    if (counted.length > 0 && eligible.length === 0) {
      notChecked.push({ id: rule.id, reason: `needs a ${rule.view} view of the reps` });
      continue;
    }
    const hits = eligible.filter((rep) => rule.test(kin, rep, counted)).map((rep) => rep.number ?? 0);
    if (hits.length === 0) continue;
    faults.push({
      id: rule.id,
      title: rule.title,
      severity: rule.severity,
      reps: hits,
      threshold: rule.threshold,
      source: rule.source,
      cue: rule.cue,
    });
  }
  if (counted.length === 0) return { faults, notChecked, score: null, deductions: [] };
  const deductions = faults.map((fault) => {
    const points = Math.round((SEVERITY_POINTS[fault.severity] * fault.reps.length) / counted.length);
    return {
      faultId: fault.id,
      points,
      reason: `${fault.title} in ${fault.reps.length} of ${counted.length} reps (${fault.severity}: up to ${SEVERITY_POINTS[fault.severity]} points)`,
    };
  });
  const score = Math.max(0, 100 - deductions.reduce((sum, d) => sum + d.points, 0));
  return { faults, notChecked, score, deductions };
}
