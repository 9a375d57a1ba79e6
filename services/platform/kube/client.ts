/**
 * Small helpers every in-cluster process shares: where the API server is, reading a
 * VideoAnalysis, and merge-patching its status subresource.
 */
import { CustomObjectsApi, KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { GROUP, PLURAL, VERSION, type VideoAnalysis, type VideoAnalysisStatus } from './video-analysis.js';

/** Options that make a client patch call a JSON merge patch (the client's default is JSON patch). */
export const MERGE_PATCH = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

/** A JSON merge patch of T: every field optional, `null` deletes one; arrays are replaced whole. */
export type MergePatch<T> = {
  [K in keyof T]?:
    | (NonNullable<T[K]> extends unknown[]
        ? T[K]
        : NonNullable<T[K]> extends object
          ? MergePatch<NonNullable<T[K]>>
          : T[K])
    | null;
};

export interface ResourceRef {
  namespace: string;
  name: string;
}

/**
 * `KUBECONFIG` when set (a developer's or a test's cluster), else the in-cluster service
 * account when running in a Pod, else ~/.kube/config.
 */
export function kubeConfigFromEnv(env: NodeJS.ProcessEnv): KubeConfig {
  const kc = new KubeConfig();
  const file = env.KUBECONFIG?.split(':').find((f) => f.trim() !== '');
  if (file) kc.loadFromFile(file);
  else if (env.KUBERNETES_SERVICE_HOST) kc.loadFromCluster();
  else kc.loadFromDefault();
  return kc;
}

export function customObjectsApi(kc: KubeConfig): CustomObjectsApi {
  return kc.makeApiClient(CustomObjectsApi);
}

export async function readVideoAnalysis(api: CustomObjectsApi, ref: ResourceRef): Promise<VideoAnalysis> {
  return (await api.getNamespacedCustomObject({
    group: GROUP,
    version: VERSION,
    plural: PLURAL,
    namespace: ref.namespace,
    name: ref.name,
  })) as VideoAnalysis;
}

/**
 * Merge-patches `status` on the status subresource: fields given replace those stored (objects
 * merge, arrays are replaced), fields left out are kept, `null` removes one.
 */
export async function patchVideoAnalysisStatus(
  api: CustomObjectsApi,
  ref: ResourceRef,
  status: MergePatch<VideoAnalysisStatus>,
  fieldManager?: string,
): Promise<VideoAnalysis> {
  return (await api.patchNamespacedCustomObjectStatus(
    {
      group: GROUP,
      version: VERSION,
      plural: PLURAL,
      namespace: ref.namespace,
      name: ref.name,
      body: { status },
      ...(fieldManager ? { fieldManager } : {}),
    },
    MERGE_PATCH,
  )) as VideoAnalysis;
}

/** The HTTP status of a failed API call, or undefined when the API server was not reached. */
export function apiErrorStatus(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'number' && code >= 100 && code < 600 ? code : undefined;
}

/** Worth retrying: the server was not reached, was overloaded or failed (5xx, 429, 408). */
export function isTransientApiError(error: unknown): boolean {
  const status = apiErrorStatus(error);
  return status === undefined || status >= 500 || status === 429 || status === 408;
}
