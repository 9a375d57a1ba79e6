/**
 * CPU accounting for bench:operator: where the machine's cores go while a run creates its
 * Jobs (the control plane's processes, the operator, the bench itself, the whole machine).
 */
import { readFileSync } from 'node:fs';
import type { ControlPlane } from '../test/support/control-plane.js';

export type CpuUse = { wallSeconds: number; machineBusy: number; seconds: Record<string, number> };
export type CpuSnapshot = { at: number; machine: { busy: number; total: number }; seconds: Record<string, number> };

/**
 * CPU time so far of the control plane's processes, the operator (when `operatorPid`) and this
 * bench, and of the whole machine (/proc/stat): taken around a run's creation phase, they show
 * where the cores went.
 */
export function cpuSnapshot(cp: ControlPlane, operatorPid?: number): CpuSnapshot {
  const seconds: Record<string, number> = {};
  for (const component of ['kube-apiserver', 'etcd', 'kube-controller-manager', 'kube-scheduler', 'kwok'] as const) {
    const pid = cp.pid(component);
    if (pid !== undefined) seconds[component] = processCpuSeconds(pid);
  }
  if (operatorPid !== undefined) seconds.operator = processCpuSeconds(operatorPid);
  const self = process.cpuUsage();
  seconds.bench = (self.user + self.system) / 1e6;
  const fields = (readFileSync('/proc/stat', 'utf8').split('\n')[0] as string).trim().split(/\s+/).slice(1).map(Number);
  const idle = (fields[3] ?? 0) + (fields[4] ?? 0); // idle + iowait
  const total = fields.reduce((a, b) => a + b, 0);
  return { at: performance.now(), machine: { busy: total - idle, total }, seconds };
}

export function cpuSince(before: CpuSnapshot, after: CpuSnapshot): CpuUse {
  const seconds: Record<string, number> = {};
  for (const [name, value] of Object.entries(after.seconds)) seconds[name] = value - (before.seconds[name] ?? 0);
  const total = after.machine.total - before.machine.total;
  return {
    wallSeconds: (after.at - before.at) / 1000,
    machineBusy: total > 0 ? (after.machine.busy - before.machine.busy) / total : Number.NaN,
    seconds,
  };
}

export function formatCpu(use: CpuUse): string {
  const parts = Object.entries(use.seconds)
    .filter(([, v]) => v >= 0.05)
    .sort(([, a], [, b]) => b - a)
    .map(([name, v]) => `${name} ${v.toFixed(1)}`);
  return `machine ${(use.machineBusy * 100).toFixed(0)} % busy over ${use.wallSeconds.toFixed(1)} s; CPU s: ${parts.join(', ')}`;
}

/** User + system CPU time of a process so far (/proc/PID/stat, in clock ticks of 1/100 s). */
export function processCpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return Number.NaN;
  }
}
