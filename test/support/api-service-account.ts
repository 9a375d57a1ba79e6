/**
 * The API's service account in a test cluster, bound to the chart's own API Role (rendered by
 * helm) in the analysis namespace, and a kubeconfig with a token of it: the API gets no more
 * rights in tests than in a cluster.
 */
import assert from 'node:assert/strict';
import { CoreV1Api, KubeConfig, RbacAuthorizationV1Api } from '@kubernetes/client-node';
import { render } from '../deploy/support/chart.js';
import type { ControlPlane } from './control-plane.js';

export async function apiServiceAccountKubeConfig(
  cp: ControlPlane,
  admin: KubeConfig,
  namespace: string,
  name = 'nfc-api',
): Promise<KubeConfig> {
  const role = render('default').find(
    (o) => o.kind === 'Role' && o.metadata.labels?.['app.kubernetes.io/component'] === 'api',
  );
  assert.ok(role, 'the chart renders an API Role in kubernetes dispatch');
  const rbac = admin.makeApiClient(RbacAuthorizationV1Api);
  const core = admin.makeApiClient(CoreV1Api);
  await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name } } });
  await rbac.createNamespacedRole({ namespace, body: { metadata: { name: 'nfc-api' }, rules: role.rules } });
  await rbac.createNamespacedRoleBinding({
    namespace,
    body: {
      metadata: { name: 'nfc-api' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'nfc-api' },
      subjects: [{ kind: 'ServiceAccount', name, namespace }],
    },
  });
  const token = await core.createNamespacedServiceAccountToken({
    name,
    namespace,
    body: { spec: { expirationSeconds: 3600, audiences: [] } },
  });
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'test', server: cp.server, caData: Buffer.from(cp.caPem).toString('base64') }],
    users: [{ name, token: token.status?.token ?? '' }],
    contexts: [{ name: 'api', cluster: 'test', user: name }],
    currentContext: 'api',
  });
  return kc;
}
