/**
 * Checks over rendered manifests shared by the policy tests: restricted pod security, pinned
 * images, which NetworkPolicies select a pod and whom they let in.
 */
import assert from 'node:assert/strict';
import { containersOf, type K8sObject, kindOf, podSpecs, RELEASE, render, selects } from './chart.js';

export const COMPONENT = 'app.kubernetes.io/component';
export const INSTANCE = 'app.kubernetes.io/instance';

/** Who may open connections to each datastore. */
export const DATASTORE_CLIENTS: Record<string, { allowed: string[]; required: string[] }> = {
  postgresql: { allowed: ['api', 'backup'], required: ['api'] },
  redis: { allowed: ['api', 'queue-worker'], required: ['api'] },
  // The operator deletes the artifacts of VideoAnalyses with cleanupPolicy Delete.
  minio: {
    allowed: ['api', 'worker', 'queue-worker', 'operator', 'backup', 'minio-setup'],
    required: ['api', 'worker'],
  },
};

/** repository[:tag][@sha256:digest] with a tag or a digest, and never "latest". */
export function imageProblem(image: unknown): string | undefined {
  if (typeof image !== 'string' || image === '') return 'no image';
  const m =
    /^(?<repo>[a-z0-9]+(?:[._/:-][a-z0-9]+)*?)(?::(?<tag>[\w][\w.-]{0,127}))?(?:@(?<digest>sha256:[a-f0-9]{64}))?$/.exec(
      image,
    );
  if (!m?.groups) return `"${image}" is not an image reference`;
  const { tag, digest } = m.groups;
  if (!tag && !digest) return `"${image}" has no tag`;
  if (tag === 'latest') return `"${image}" uses the latest tag`;
  return undefined;
}

export function restrictedProblems(owner: string, spec: K8sObject): string[] {
  const problems: string[] = [];
  const pod = spec.securityContext ?? {};
  if (spec.hostNetwork || spec.hostPID || spec.hostIPC) problems.push(`${owner}: uses host namespaces`);
  for (const v of spec.volumes ?? []) {
    if (v.hostPath) problems.push(`${owner}: hostPath volume ${v.name}`);
    if (v.emptyDir && !v.emptyDir.sizeLimit) problems.push(`${owner}: emptyDir ${v.name} has no sizeLimit`);
  }
  if (pod.runAsUser === 0) problems.push(`${owner}: pod runs as uid 0`);
  for (const c of containersOf(spec)) {
    const where = `${owner} container ${c.name}`;
    const sc = c.securityContext ?? {};
    if ((sc.runAsNonRoot ?? pod.runAsNonRoot) !== true) problems.push(`${where}: runAsNonRoot is not true`);
    if (sc.runAsUser === 0) problems.push(`${where}: runs as uid 0`);
    if ((sc.seccompProfile ?? pod.seccompProfile)?.type !== 'RuntimeDefault') {
      problems.push(`${where}: seccompProfile is not RuntimeDefault`);
    }
    if (sc.allowPrivilegeEscalation !== false) problems.push(`${where}: allowPrivilegeEscalation is not false`);
    if (sc.privileged === true) problems.push(`${where}: privileged`);
    if (sc.readOnlyRootFilesystem !== true) problems.push(`${where}: root filesystem is writable`);
    if (!sc.capabilities?.drop?.includes('ALL')) problems.push(`${where}: capabilities not dropped (ALL)`);
    if ((sc.capabilities?.add ?? []).length > 0) problems.push(`${where}: adds capabilities`);
    // Read-only root: scratch space is an emptyDir on /tmp.
    const tmp = (c.volumeMounts ?? []).find((m: K8sObject) => m.mountPath === '/tmp');
    const tmpVolume = tmp && (spec.volumes ?? []).find((v: K8sObject) => v.name === tmp.name);
    if (!tmpVolume?.emptyDir) problems.push(`${where}: no emptyDir scratch volume on /tmp`);
    for (const kind of ['requests', 'limits'] as const) {
      for (const resource of ['cpu', 'memory']) {
        if (c.resources?.[kind]?.[resource] === undefined) problems.push(`${where}: no ${resource} ${kind}`);
      }
    }
    const bad = imageProblem(c.image);
    if (bad) problems.push(`${where}: image ${bad}`);
  }
  return problems;
}

/** NetworkPolicies of a namespace that select pods with these labels and have this policy type. */
export function policiesFor(objects: K8sObject[], namespace: string, labels: Record<string, string>, type: string) {
  return objects.filter(
    (o) =>
      o.kind === 'NetworkPolicy' &&
      o.metadata.namespace === namespace &&
      selects(o.spec.podSelector?.matchLabels, labels) &&
      (o.spec.podSelector?.matchExpressions ?? []).length === 0 &&
      (o.spec.policyTypes ?? ['Ingress']).includes(type),
  );
}

/** The labels of the worker Job pods the operator builds with the chart's settings. */
export function workerJobLabels(objects: K8sObject[]): Record<string, string> {
  const job = podSpecs(objects).find((p) => p.job);
  assert.ok(job, 'no worker Job could be built from the operator settings');
  return job.labels;
}

/**
 * Components allowed in by the ingress rules of the policies that select a pod ("worker" for a
 * peer that selects the operator's worker Job pods); problems for anything broader.
 */
export function admitted(objects: K8sObject[], namespace: string, labels: Record<string, string>) {
  const workerLabels = workerJobLabels(objects);
  const components = new Set<string>();
  const problems: string[] = [];
  const policies = policiesFor(objects, namespace, labels, 'Ingress');
  if (!policies.some((p) => selects(p.spec.podSelector?.matchLabels, {}) && !(p.spec.ingress ?? []).length)) {
    problems.push(`no default-deny ingress policy covers ${JSON.stringify(labels)}`);
  }
  for (const p of policies) {
    for (const rule of p.spec.ingress ?? []) {
      if (!rule.from?.length) {
        problems.push(`${kindOf(p)}: an ingress rule admits every source`);
        continue;
      }
      for (const peer of rule.from) {
        const match = peer.podSelector?.matchLabels ?? {};
        if (!peer.ipBlock && Object.keys(match).length > 0 && selects(match, workerLabels)) {
          components.add('worker');
          continue;
        }
        if (peer.ipBlock || !peer.podSelector || !match[COMPONENT] || match[INSTANCE] !== RELEASE) {
          problems.push(
            `${kindOf(p)}: admits a peer broader than one of this release's components: ${JSON.stringify(peer)}`,
          );
          continue;
        }
        components.add(match[COMPONENT]);
      }
    }
  }
  return { components, problems };
}

/** One scenario's rendered objects, with lookups by kind and by component label. */
export function scenarioObjects(scenario: string) {
  const objects = (): K8sObject[] => render(scenario);
  const byKind = (kind: string) => objects().filter((o) => o.kind === kind);
  const component = (kind: string, name: string) =>
    objects().find((o) => o.kind === kind && o.metadata.labels?.[COMPONENT] === name);
  return { objects, byKind, component };
}
