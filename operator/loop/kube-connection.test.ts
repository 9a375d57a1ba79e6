import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resourceOfPath } from './kube-connection.js';

describe('resourceOfPath (the resource label of the API request metric)', () => {
  it('names the resource and subresource of namespaced, cluster-wide and core paths', () => {
    const cases: Record<string, string> = {
      '/apis/batch/v1/namespaces/ns/jobs': 'jobs',
      '/apis/batch/v1/jobs?watch=true': 'jobs',
      '/apis/nutrifitcoach.io/v1alpha1/namespaces/ns/videoanalyses/va-1/status': 'videoanalyses/status',
      '/apis/nutrifitcoach.io/v1alpha1/namespaces/ns/videoanalyses/va-1': 'videoanalyses',
      '/apis/events.k8s.io/v1/namespaces/ns/events': 'events',
      '/api/v1/namespaces/ns/events': 'events',
      '/apis/coordination.k8s.io/v1/namespaces/default/leases/nfc-operator': 'leases',
      '/api/v1/namespaces': 'namespaces',
    };
    for (const [path, resource] of Object.entries(cases)) assert.equal(resourceOfPath(path), resource, path);
  });
});
