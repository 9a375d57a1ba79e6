/**
 * RBAC of every CI scenario: namespaced only, no wildcards, each ServiceAccount with what its
 * component needs and nothing more, tokens mounted only where the Kubernetes API is called.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type K8sObject, kindOf, podSpecs, RELEASE, SCENARIOS } from './support/chart.js';
import { COMPONENT, scenarioObjects } from './support/policy.js';

for (const scenario of SCENARIOS) {
  describe(`RBAC of scenario ${scenario}`, () => {
    const { objects, byKind, component } = scenarioObjects(scenario);

    it('grants least-privilege RBAC, namespaced only', () => {
      assert.deepEqual(
        objects()
          .filter((o) => o.kind === 'ClusterRole' || o.kind === 'ClusterRoleBinding')
          .map(kindOf),
        [],
        'no cluster-wide RBAC',
      );
      const roles = byKind('Role');
      for (const role of roles) {
        for (const rule of role.rules) {
          for (const field of ['verbs', 'resources', 'apiGroups']) {
            assert.ok(!rule[field].includes('*'), `${kindOf(role)}: wildcard ${field}`);
          }
          assert.ok(!rule.resources.includes('secrets'), `${kindOf(role)}: reads Secrets`);
        }
      }
      const rulesOf = (c: string) =>
        roles.filter((r) => r.metadata.labels[COMPONENT] === c).flatMap((r) => r.rules as K8sObject[]);
      const verbs = (rules: K8sObject[], resource: string) =>
        new Set(rules.filter((r) => r.resources.includes(resource)).flatMap((r) => r.verbs as string[]));

      const worker = rulesOf('worker');
      assert.deepEqual(
        new Set(worker.flatMap((r) => r.resources as string[])),
        new Set(['videoanalyses', 'videoanalyses/status']),
      );
      assert.deepEqual(verbs(worker, 'videoanalyses'), new Set(['get']));
      assert.deepEqual(verbs(worker, 'videoanalyses/status'), new Set(['patch']));

      const api = rulesOf('api');
      if (objects().some((o) => o.kind === 'Deployment' && o.metadata.labels[COMPONENT] === 'api')) {
        const dispatchesToKubernetes = component('Deployment', 'api')?.spec.template.spec.automountServiceAccountToken;
        if (dispatchesToKubernetes) {
          assert.deepEqual(new Set(api.flatMap((r) => r.resources as string[])), new Set(['videoanalyses']));
          assert.deepEqual(verbs(api, 'videoanalyses'), new Set(['create', 'get', 'list', 'watch', 'delete']));
        } else {
          assert.deepEqual(api, [], 'the API does not use the Kubernetes API in queue mode');
        }
      }

      const operator = rulesOf('operator');
      const allowed = new Set([
        'videoanalyses',
        'videoanalyses/status',
        'videoanalyses/finalizers',
        'jobs',
        'pods',
        'events',
        'leases',
      ]);
      for (const r of operator) for (const res of r.resources) assert.ok(allowed.has(res), `operator may touch ${res}`);
      for (const res of [
        'videoanalyses',
        'videoanalyses/status',
        'videoanalyses/finalizers',
        'jobs',
        'pods',
        'events',
        'leases',
      ]) {
        assert.ok(verbs(operator, res).size > 0, `operator lacks access to ${res}`);
      }
      assert.deepEqual(verbs(operator, 'pods'), new Set(['get', 'list', 'watch']), 'operator only reads Pods');
      assert.deepEqual(verbs(operator, 'events'), new Set(['create', 'patch']));
      assert.equal(verbs(operator, 'configmaps').size, 0, 'the operator gets its settings from its environment');
      assert.equal(verbs(operator, 'secrets').size, 0);
      for (const r of operator.filter((r) => r.resources.includes('leases'))) {
        if (!(r.verbs.length === 1 && r.verbs[0] === 'create')) {
          assert.deepEqual(r.resourceNames, [`${RELEASE}-operator`], 'operator updates its own Lease only');
        }
      }
      assert.ok(
        byKind('Role')
          .filter((r) => r.rules.some((x: K8sObject) => x.resources.includes('leases')))
          .every((r) => r.metadata.namespace === 'nfc'),
        'the Lease lives in the release namespace',
      );

      // Bindings point at the chart's own roles and ServiceAccounts.
      const accounts = new Set(byKind('ServiceAccount').map((s) => `${s.metadata.namespace}/${s.metadata.name}`));
      for (const b of byKind('RoleBinding')) {
        assert.ok(
          roles.some((r) => r.metadata.name === b.roleRef.name && r.metadata.namespace === b.metadata.namespace),
        );
        for (const s of b.subjects) assert.ok(accounts.has(`${s.namespace}/${s.name}`), `${kindOf(b)} binds ${s.name}`);
      }
      for (const sa of byKind('ServiceAccount')) {
        assert.equal(sa.automountServiceAccountToken, false, `${kindOf(sa)} mounts its token everywhere`);
      }
      // Only pods that call the Kubernetes API get a token.
      for (const { owner, labels, spec } of podSpecs(objects())) {
        if (spec.automountServiceAccountToken !== false) {
          const component = owner.includes('#job-') ? 'worker' : (labels[COMPONENT] ?? '');
          assert.ok(['operator', 'api', 'worker'].includes(component), `${owner} mounts a token`);
        }
      }
    });
  });
}
