/**
 * What every list-watch cache needs of an object: its metadata, as the API server sends it
 * (JSON: times are strings), and its `namespace/name` key.
 */

export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  finalizers?: string[];
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: Array<{ apiVersion: string; kind: string; name: string; uid: string; controller?: boolean }>;
}

export interface CachedObject {
  metadata: ObjectMeta;
}

/** `namespace/name`: the cache's (and the operator's work queue's) key. */
export function keyOf(obj: CachedObject): string {
  return objectKey(obj.metadata.namespace ?? '', obj.metadata.name);
}

export function objectKey(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}
