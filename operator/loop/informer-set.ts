/**
 * The informers of one kind of object: one cluster-wide, or one per watched namespace (the
 * chart grants namespaced RBAC only), seen as a single cache.
 */
import type { Informer, InformerHandlers } from './informer.js';
import type { CachedObject } from './objects.js';

export class InformerSet<T extends CachedObject> {
  private readonly byNamespace: Map<string, Informer<T>>;

  /** `informers` keyed by namespace; the key '' is a cluster-wide informer. */
  constructor(informers: Map<string, Informer<T>>) {
    this.byNamespace = informers;
  }

  get all(): Informer<T>[] {
    return [...this.byNamespace.values()];
  }

  /** [namespace ('' for the whole cluster), informer] pairs. */
  entries(): Array<[string, Informer<T>]> {
    return [...this.byNamespace.entries()];
  }

  on(handlers: InformerHandlers<T>): void {
    for (const i of this.byNamespace.values()) i.on(handlers);
  }

  get(namespace: string, name: string): T | undefined {
    return (this.byNamespace.get(namespace) ?? this.byNamespace.get(''))?.get(namespace, name);
  }

  *list(): IterableIterator<T> {
    for (const i of this.byNamespace.values()) yield* i.list();
  }

  get synced(): boolean {
    return this.all.every((i) => i.synced);
  }

  start(): void {
    for (const i of this.all) i.start();
  }

  async waitForSync(signal?: AbortSignal): Promise<void> {
    await Promise.all(this.all.map((i) => i.waitForSync(signal)));
  }

  async stop(): Promise<void> {
    await Promise.all(this.all.map((i) => i.stop()));
  }
}
