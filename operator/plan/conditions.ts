/** metav1.Condition bookkeeping: one condition per type, transition time kept when the status doesn't change. */
import type { VideoAnalysisStatus } from '../../services/platform/kube/video-analysis.js';

type Condition = NonNullable<VideoAnalysisStatus['conditions']>[number];

export function conditionsWith(
  existing: readonly Condition[] | undefined,
  generation: number,
  now: string,
  next: Pick<Condition, 'type' | 'status' | 'reason' | 'message'>,
): Condition[] {
  const previous = existing?.find((c) => c.type === next.type);
  const transitioned = !previous || previous.status !== next.status;
  const updated: Condition = {
    ...next,
    observedGeneration: generation,
    lastTransitionTime: transitioned ? now : previous.lastTransitionTime,
  };
  return [...(existing ?? []).filter((c) => c.type !== next.type), updated];
}
