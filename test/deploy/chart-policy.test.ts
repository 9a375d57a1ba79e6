/**
 * Policy over the rendered manifests of every CI scenario: restricted pod security, requests and
 * limits, pinned images, no way in but the Ingress, NetworkPolicies that wall off the datastores
 * and the workers.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { containersOf, kindOf, NAMESPACE, podSpecs, SCENARIOS } from './support/chart.js';
import {
  admitted,
  COMPONENT,
  DATASTORE_CLIENTS,
  imageProblem,
  policiesFor,
  restrictedProblems,
  scenarioObjects,
} from './support/policy.js';

for (const scenario of SCENARIOS) {
  describe(`pods and network of scenario ${scenario}`, () => {
    const { objects, byKind, component } = scenarioObjects(scenario);

    it('runs every pod (worker Job profiles included) under the restricted Pod Security Standard', () => {
      const pods = podSpecs(objects());
      assert.ok(pods.length >= 3, 'no pods rendered');
      assert.ok(
        pods.some((p) => p.job),
        'no worker Job was built from the operator settings',
      );
      assert.deepEqual(
        pods.flatMap((p) => restrictedProblems(p.owner, p.spec)),
        [],
      );
    });

    it('gives every container requests and limits and a pinned image', () => {
      for (const { owner, spec } of podSpecs(objects())) {
        for (const c of containersOf(spec)) {
          assert.ok(c.resources?.requests?.cpu && c.resources?.limits?.memory, `${owner}/${c.name}: resources`);
          assert.equal(imageProblem(c.image), undefined, `${owner}/${c.name}`);
        }
      }
    });

    it('keeps the API Service ClusterIP (reached through the Ingress only) and exposes nothing else', () => {
      for (const svc of byKind('Service')) {
        assert.ok(
          svc.spec.type === undefined || svc.spec.type === 'ClusterIP',
          `${kindOf(svc)} is ${svc.spec.type}: only the Ingress may be a way in`,
        );
      }
      const api = byKind('Service').find((s) => s.spec.selector?.[COMPONENT] === 'api');
      assert.ok(api, 'no API Service');
      const ingress = component('Ingress', 'api');
      assert.ok(ingress, 'no Ingress for the API');
      const backend = ingress.spec.rules[0].http.paths[0].backend.service.name;
      assert.equal(backend, api.metadata.name);
      // Only the local kind cluster (dev) serves plain HTTP.
      if (scenario !== 'dev') assert.ok(ingress.spec.tls?.[0]?.secretName, 'the Ingress has no TLS');
      const a = ingress.metadata.annotations;
      assert.match(a['nginx.ingress.kubernetes.io/proxy-body-size'], /^[0-9]+[mg]$/);
      assert.ok(
        Number(a['nginx.ingress.kubernetes.io/proxy-read-timeout']) >= 300,
        'read timeout too short for uploads',
      );
      assert.ok(
        Number(a['nginx.ingress.kubernetes.io/proxy-send-timeout']) >= 300,
        'send timeout too short for uploads',
      );
      assert.ok(Number(a['nginx.ingress.kubernetes.io/limit-rps']) > 0, 'no rate limit');
      assert.ok(Number(a['nginx.ingress.kubernetes.io/limit-connections']) > 0, 'no connection limit');
    });

    it('denies all traffic by default in the release namespace', () => {
      const deny = byKind('NetworkPolicy').find(
        (p) =>
          Object.keys(p.spec.podSelector ?? {}).length === 0 &&
          p.spec.policyTypes?.includes('Ingress') &&
          p.spec.policyTypes?.includes('Egress') &&
          !p.spec.ingress &&
          !p.spec.egress,
      );
      assert.ok(deny, 'no default-deny NetworkPolicy');
    });

    it('lets only the API and the workers (and the backup and bucket setup jobs) reach each datastore', () => {
      const stores = byKind('StatefulSet').filter((s) => s.metadata.labels?.[COMPONENT] in DATASTORE_CLIENTS);
      for (const store of stores) {
        const name = store.metadata.labels[COMPONENT] as string;
        const { components, problems } = admitted(
          objects(),
          store.metadata.namespace,
          store.spec.template.metadata.labels,
        );
        assert.deepEqual(problems, [], `${name}`);
        const rule = DATASTORE_CLIENTS[name];
        assert.ok(rule);
        for (const c of components) assert.ok(rule.allowed.includes(c), `${name} admits ${c}`);
        for (const c of rule.required) assert.ok(components.has(c), `${name} does not admit ${c}`);
        if (name === 'redis' && component('Deployment', 'queue-worker')) {
          assert.ok(components.has('queue-worker'), 'redis does not admit the queue workers');
        }
      }
    });

    it('limits worker egress to S3, the Kubernetes API and DNS', () => {
      const workerPods = podSpecs(objects()).filter((p) => p.job || p.labels[COMPONENT] === 'queue-worker');
      assert.ok(workerPods.length > 0);
      const namespaces = new Set(
        byKind('ServiceAccount')
          .filter((s) => s.metadata.labels?.[COMPONENT] === 'worker')
          .map((s) => s.metadata.namespace as string),
      );
      for (const pod of workerPods) {
        const queue = pod.labels[COMPONENT] === 'queue-worker';
        for (const ns of queue ? [NAMESPACE] : [...namespaces]) {
          const policies = policiesFor(objects(), ns, pod.labels, 'Egress');
          assert.ok(policies.length > 0, `no egress policy for ${pod.owner} in ${ns}`);
          for (const p of policies) {
            for (const rule of p.spec.egress ?? []) {
              assert.ok(
                rule.to?.length && rule.ports?.length,
                `${kindOf(p)}: an egress rule without destinations or ports`,
              );
              for (const peer of rule.to) {
                const target = peer.podSelector?.matchLabels?.[COMPONENT];
                assert.ok(target !== 'postgresql', `${kindOf(p)}: a worker may reach PostgreSQL`);
                if (!queue) assert.ok(target !== 'redis', `${kindOf(p)}: a job worker may reach Redis`);
              }
              for (const port of rule.ports) {
                assert.ok(
                  [53, 443, 6443, 9000, ...(queue ? [6379] : [])].includes(port.port),
                  `${kindOf(p)}: worker egress to port ${port.port}`,
                );
              }
            }
          }
        }
      }
    });
  });
}
