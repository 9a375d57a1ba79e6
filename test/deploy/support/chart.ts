/**
 * The Helm chart under test: its CI scenarios, `helm template` renders of them parsed into
 * objects, and the pod specs inside those objects, including those of the worker Jobs the
 * operator builds from the settings the chart gives it.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { type Config, loadConfig } from '../../../operator/config.js';
import { buildJob } from '../../../operator/plan/job-spec.js';
import type { Desired } from '../../../operator/plan/types.js';
import { ROOT, runOk } from './tools.js';

export const CHART_DIR = join(ROOT, 'charts/nfc');
export const RELEASE = 'nfc';
export const NAMESPACE = 'nfc';
/**
 * Rendered for the oldest Kubernetes the chart supports (Chart.yaml's kubeVersion), whatever
 * version the helm binary assumes by default.
 */
export const KUBE_VERSION = '1.29.0';

/** ci/<name>-values.yaml → name. */
export const SCENARIOS: string[] = readdirSync(join(CHART_DIR, 'ci'))
  .filter((f) => f.endsWith('-values.yaml'))
  .map((f) => f.slice(0, -'-values.yaml'.length))
  .sort();

export function scenarioFile(scenario: string): string {
  return join(CHART_DIR, 'ci', `${scenario}-values.yaml`);
}

// biome-ignore lint/suspicious/noExplicitAny: rendered Kubernetes objects are checked field by field
export type K8sObject = Record<string, any>;

/** Parses a multi-document YAML stream; empty documents are dropped. */
export function parseManifests(text: string): K8sObject[] {
  const objects: K8sObject[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0) throw new Error(`invalid YAML in rendered manifests: ${doc.errors[0]?.message}`);
    const value = doc.toJS() as K8sObject | null;
    if (value) objects.push(value);
  }
  return objects;
}

const rendered = new Map<string, K8sObject[]>();

/** `helm template` of one scenario (cached per process), parsed. */
export function render(scenario: string, extraArgs: string[] = []): K8sObject[] {
  const key = [scenario, ...extraArgs].join('\0');
  let objects = rendered.get(key);
  if (!objects) {
    objects = parseManifests(renderText(scenario, extraArgs));
    rendered.set(key, objects);
  }
  return objects;
}

export function renderText(scenario: string, extraArgs: string[] = []): string {
  return runOk('helm', [
    'template',
    RELEASE,
    CHART_DIR,
    '--namespace',
    NAMESPACE,
    '--kube-version',
    KUBE_VERSION,
    '--values',
    scenarioFile(scenario),
    ...extraArgs,
  ]);
}

export function kindOf(o: K8sObject): string {
  return `${o.kind}/${o.metadata?.namespace ?? '-'}/${o.metadata?.name}`;
}

export interface PodSpecAt {
  /** Where it comes from, e.g. "Deployment/nfc/nfc-api", or "ConfigMap/nfc/nfc-operator-config#job-1gpu" for a worker Job. */
  owner: string;
  /** The labels its pods get. */
  labels: Record<string, string>;
  spec: K8sObject;
  /** For a worker Job: the Job the operator builds. */
  job?: K8sObject;
}

/**
 * The pod specs of every workload, and of the worker Jobs the operator builds from the chart's
 * settings (one asking for a GPU when GPUs are on, one for the CPU).
 */
export function podSpecs(objects: K8sObject[]): PodSpecAt[] {
  const out: PodSpecAt[] = [];
  for (const o of objects) {
    const owner = kindOf(o);
    switch (o.kind) {
      case 'Pod':
        out.push({ owner, labels: o.metadata?.labels ?? {}, spec: o.spec });
        break;
      case 'Deployment':
      case 'StatefulSet':
      case 'DaemonSet':
      case 'ReplicaSet':
      case 'Job':
        out.push({ owner, labels: o.spec.template.metadata?.labels ?? {}, spec: o.spec.template.spec });
        break;
      case 'CronJob':
        out.push({
          owner,
          labels: o.spec.jobTemplate.spec.template.metadata?.labels ?? {},
          spec: o.spec.jobTemplate.spec.template.spec,
        });
        break;
    }
  }
  const settings = operatorSettings(objects);
  if (settings) out.push(...workerJobPods(settings.owner, settings.config));
  return out;
}

export interface OperatorSettings {
  /** Where they come from: the operator's ConfigMap. */
  owner: string;
  configMap: K8sObject;
  /** The operator container's environment: its ConfigMap, then its own env (downward API resolved). */
  env: Record<string, string>;
  /** What the operator's own loadConfig makes of it. */
  config: Config;
}

/**
 * The operator's settings as the operator itself reads them (operator/config.ts): its
 * Deployment's environment with the ConfigMap it loads, through `loadConfig`.
 */
export function operatorSettings(objects: K8sObject[]): OperatorSettings | undefined {
  const deployment = objects.find(
    (o) => o.kind === 'Deployment' && o.metadata.labels?.['app.kubernetes.io/component'] === 'operator',
  );
  if (!deployment) return undefined;
  const container = deployment.spec.template.spec.containers[0];
  const configMapName = (container.envFrom ?? []).find((e: K8sObject) => e.configMapRef)?.configMapRef.name;
  const configMap = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === configMapName);
  if (!configMap) throw new Error(`${kindOf(deployment)} loads no ConfigMap of the chart (${configMapName})`);
  const env: Record<string, string> = { ...configMap.data };
  for (const e of container.env ?? []) {
    if (e.value !== undefined) env[e.name] = e.value;
    else if (e.valueFrom?.fieldRef?.fieldPath === 'metadata.namespace') env[e.name] = deployment.metadata.namespace;
    else if (e.valueFrom?.fieldRef?.fieldPath === 'metadata.name') env[e.name] = `${deployment.metadata.name}-0`;
  }
  return { owner: kindOf(configMap), configMap, env, config: loadConfig(env) };
}

/** A VideoAnalysis in a watched namespace, asking for `gpus` GPUs. */
function sampleAnalysis(namespace: string, gpus: number): Desired {
  return {
    apiVersion: 'nutrifitcoach.io/v1alpha1',
    kind: 'VideoAnalysis',
    metadata: { name: `policy-check-${gpus}gpu`, namespace, uid: '00000000-0000-4000-8000-000000000000' },
    spec: {
      source: { s3: { bucket: 'videos', key: 'uploads/clip.mp4' } },
      output: { bucket: 'results', prefix: 'analyses/policy-check/' },
      resources: { gpu: gpus },
    },
  } as Desired;
}

/** The pod specs of the Jobs the operator builds (operator/plan/job-spec.ts) with the chart's settings. */
function workerJobPods(owner: string, config: Config): PodSpecAt[] {
  const namespace = config.watchNamespaces[0] ?? NAMESPACE;
  // A GPU Job where GPUs are on (the GPU image), and a CPU one.
  const gpuCounts = /nfc-worker-cpu[:@]/.test(config.job.workerImage) ? [0] : [1, 0];
  return gpuCounts.map((gpus) => {
    const job = buildJob(sampleAnalysis(namespace, gpus), config.job);
    return {
      owner: `${owner}#job-${gpus}gpu`,
      labels: (job.spec?.template.metadata?.labels ?? {}) as Record<string, string>,
      spec: job.spec?.template.spec as K8sObject,
      job,
    };
  });
}

/** Containers and init containers of a pod spec. */
export function containersOf(spec: K8sObject): K8sObject[] {
  return [...(spec.initContainers ?? []), ...(spec.containers ?? [])];
}

/** Whether a label selector's matchLabels (all of them) are among `labels`. */
export function selects(matchLabels: Record<string, string> | undefined, labels: Record<string, string>): boolean {
  return Object.entries(matchLabels ?? {}).every(([k, v]) => labels[k] === v);
}
