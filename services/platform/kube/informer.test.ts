/**
 * The relist logic of the informer, with lists served from memory and a watch that cannot
 * connect (nothing listens): a relist alone must bring the cache to the truth, telling handlers
 * about every object added, changed or deleted while the watch was down.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KubeConfig } from '@kubernetes/client-node';
import { pino } from 'pino';
import type { CachedObject } from './cached-object.js';
import { Informer, type ListPage } from './informer.js';

const obj = (name: string, rv: string): CachedObject => ({ metadata: { name, namespace: 'ns', resourceVersion: rv } });

function unreachable(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: 'https://127.0.0.1:1', skipTLSVerify: true }],
    users: [{ name: 'u', token: 'x' }],
    contexts: [{ name: 'ctx', cluster: 'c', user: 'u' }],
    currentContext: 'ctx',
  });
  return kc;
}

describe('Informer relist', () => {
  it('diffs each full list against the cache: adds, updates and deletes, pages included', async () => {
    const lists: Array<Array<ListPage<CachedObject>>> = [
      [{ items: [obj('a', '1'), obj('b', '1')], metadata: { resourceVersion: '10' } }],
      [
        { items: [obj('b', '2')], metadata: { continue: 'next' } },
        { items: [obj('c', '1')], metadata: { resourceVersion: '20' } },
      ],
    ];
    let round = 0;
    let page = 0;
    const events: string[] = [];
    let relists = 0;
    let resolveSecond!: () => void;
    const second = new Promise<void>((r) => {
      resolveSecond = r;
    });
    const informer = new Informer<CachedObject>({
      resource: 'things',
      path: '/apis/example/v1/things',
      listPage: async (token) => {
        const pages = lists[Math.min(round, lists.length - 1)] as Array<ListPage<CachedObject>>;
        const result = pages[token ? page : 0] as ListPage<CachedObject>;
        page = token ? page + 1 : 1;
        if (!result.metadata?.continue) round++;
        return result;
      },
      kubeConfig: unreachable(),
      resyncMs: 30,
      inactivityMs: 1000,
      backoffBaseMs: 5,
      backoffMaxMs: 10,
      log: pino({ level: 'silent' }),
    });
    informer.on({
      add: (o) => events.push(`add ${o.metadata.name}`),
      update: (o, old) =>
        events.push(`update ${o.metadata.name} ${old.metadata.resourceVersion}→${o.metadata.resourceVersion}`),
      delete: (o) => events.push(`delete ${o.metadata.name}`),
      relisted: () => {
        relists++;
        if (relists === 2) resolveSecond();
      },
    });
    informer.start();
    await informer.waitForSync();
    assert.deepEqual(events.splice(0), ['add a', 'add b']);
    await second;
    await informer.stop();
    assert.deepEqual(events, ['delete a', 'update b 1→2', 'add c']);
    assert.deepEqual(
      [...informer.list()].map((o) => o.metadata.name),
      ['b', 'c'],
    );
    assert.ok(informer.lastEventAt > 0);
  });

  it('waitForSync with a signal leaves no timer behind once synced (the process can exit)', async () => {
    const informer = new Informer<CachedObject>({
      resource: 'things',
      path: '/apis/example/v1/things',
      listPage: async () => ({ items: [obj('a', '1')], metadata: { resourceVersion: '1' } }),
      kubeConfig: unreachable(),
      resyncMs: 60_000,
      inactivityMs: 1000,
      backoffBaseMs: 5,
      backoffMaxMs: 10,
      log: pino({ level: 'silent' }),
    });
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const before = timers();
    informer.start();
    await informer.waitForSync(new AbortController().signal);
    await informer.stop();
    assert.equal(informer.synced, true);
    assert.equal(timers(), before);
    // An aborted wait returns at once, synced or not.
    const never = new Informer<CachedObject>({
      resource: 'things',
      path: '/apis/example/v1/things',
      listPage: () => new Promise(() => {}),
      kubeConfig: unreachable(),
      resyncMs: 60_000,
      inactivityMs: 1000,
      backoffBaseMs: 5,
      backoffMaxMs: 10,
      log: pino({ level: 'silent' }),
    });
    await never.waitForSync(AbortSignal.abort());
    assert.equal(never.synced, false);
  });
});
