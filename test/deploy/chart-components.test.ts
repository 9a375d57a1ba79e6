/**
 * The components of every CI scenario as their users need them: the operator with standby
 * replicas and every Job setting it reads, the API behind an HPA and a PDB, the datastores'
 * persistence and settings, the backups; and what each scenario changes.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ENV } from '../../operator/config.js';
import { EXIT } from '../../services/cli/exit-codes.js';
import {
  containersOf,
  type K8sObject,
  NAMESPACE,
  operatorSettings,
  podSpecs,
  RELEASE,
  render,
  SCENARIOS,
  selects,
} from './support/chart.js';
import { COMPONENT, scenarioObjects } from './support/policy.js';

for (const scenario of SCENARIOS) {
  describe(`components of scenario ${scenario}`, () => {
    const { objects, byKind, component } = scenarioObjects(scenario);

    it('runs the operator with standby replicas and the API with an HPA, a PDB and probes', () => {
      const operator = component('Deployment', 'operator');
      assert.ok(operator);
      const env = Object.fromEntries(
        operator.spec.template.spec.containers[0].env.map((e: K8sObject) => [e.name, e.value ?? e.valueFrom]),
      );
      assert.equal(env.NFC_OPERATOR_LEASE_NAME, `${RELEASE}-operator`);
      if (scenario !== 'dev') assert.equal(operator.spec.replicas, 2);
      const api = component('Deployment', 'api');
      assert.ok(api);
      const container = api.spec.template.spec.containers[0];
      for (const probe of ['startupProbe', 'livenessProbe', 'readinessProbe']) assert.ok(container[probe], probe);
      const hpa = component('HorizontalPodAutoscaler', 'api');
      if (hpa) {
        assert.equal(hpa.spec.scaleTargetRef.name, api.metadata.name);
        assert.equal(api.spec.replicas, undefined, 'the HPA owns the replica count');
      }
      if (scenario === 'default') {
        assert.ok(hpa, 'no HPA');
        const pdb = component('PodDisruptionBudget', 'api');
        assert.ok(pdb && selects(pdb.spec.selector.matchLabels, api.spec.template.metadata.labels), 'no API PDB');
      }
    });

    it('hands the operator every worker Job setting it reads, and its Jobs run as the chart expects', () => {
      const settings = operatorSettings(objects());
      assert.ok(settings, 'no operator');
      // Every key of the ConfigMap is a variable the operator reads, and every Job setting it
      // reads is in the ConfigMap (operator/config.ts, ENV).
      const known = new Map(ENV.map(([path, variable]) => [variable, path]));
      for (const key of Object.keys(settings.configMap.data)) {
        assert.ok(known.has(key), `${settings.owner}: the operator does not read ${key}`);
      }
      for (const [path, variable] of ENV) {
        if (path.startsWith('/job/'))
          assert.ok(variable in settings.configMap.data, `${settings.owner} lacks ${variable}`);
      }
      const operatorEnv = component('Deployment', 'operator')?.spec.template.spec.containers[0].env as K8sObject[];
      for (const { name } of operatorEnv.filter((e) => /^NFC_(OPERATOR|METRICS|WATCH)_/.test(e.name))) {
        assert.ok(known.has(name), `the operator does not read ${name}`);
      }
      const { config } = settings;
      assert.equal(
        config.job.badInputExitCode,
        EXIT.BAD_INPUT,
        "the worker's exit code for a video that can never work",
      );
      assert.equal(config.leaderElection.leaseName, `${RELEASE}-operator`);
      assert.equal(config.leaderElection.leaseNamespace, NAMESPACE);
      assert.ok(config.leaderElection.enabled);
      if (config.job.priorityClassName) {
        const pc = byKind('PriorityClass')[0];
        if (pc) assert.equal(pc.metadata.name, config.job.priorityClassName);
      }
      // In every watched namespace: the worker's ServiceAccount, and the S3 Secret (the chart's
      // copy, or the external one the user creates there).
      const external = !component('StatefulSet', 'minio');
      assert.ok(config.watchNamespaces.length > 0, 'the operator would watch the whole cluster');
      for (const ns of config.watchNamespaces) {
        const has = (kind: string, name: string) =>
          objects().some((o) => o.kind === kind && o.metadata.namespace === ns && o.metadata.name === name);
        assert.ok(has('ServiceAccount', config.job.workerServiceAccount), `no worker ServiceAccount in ${ns}`);
        assert.ok(
          external || has('Secret', config.job.s3SecretName),
          `no S3 Secret ${config.job.s3SecretName} in ${ns}`,
        );
      }
      // The Jobs the operator builds run the worker command of the image and load the S3 environment.
      for (const { owner, spec } of podSpecs(objects()).filter((p) => p.job)) {
        const [container] = spec.containers;
        assert.deepEqual(container.args.slice(0, 2), ['worker', 'job'], owner);
        assert.ok(
          container.envFrom?.some((e: K8sObject) => e.secretRef?.name === config.job.s3SecretName),
          `${owner}: no S3 environment`,
        );
      }
    });

    it('configures the datastores it runs: Redis AOF with noeviction, PostgreSQL on a volume, MinIO buckets', () => {
      const redis = byKind('ConfigMap').find((c) => c.data?.['redis.conf']);
      if (component('StatefulSet', 'redis')) {
        assert.ok(redis, 'no redis.conf');
        assert.match(redis.data['redis.conf'], /^appendonly yes$/m);
        assert.match(redis.data['redis.conf'], /^maxmemory-policy noeviction$/m);
      }
      for (const name of ['postgresql', 'redis', 'minio']) {
        const sts = component('StatefulSet', name);
        if (sts) assert.ok(sts.spec.volumeClaimTemplates?.length, `${name} has no PersistentVolumeClaim`);
      }
      if (component('StatefulSet', 'minio')) {
        const setup = component('Job', 'minio-setup');
        assert.ok(setup, 'no bucket setup Job');
        assert.match(setup.metadata.annotations['helm.sh/hook'], /post-install/);
      }
    });

    it('backs PostgreSQL up to the bucket with retention when backups are on', () => {
      const cron = component('CronJob', 'backup');
      if (scenario === 'cpu-only') {
        assert.equal(cron, undefined);
        return;
      }
      assert.ok(cron, 'no backup CronJob');
      const spec = cron.spec.jobTemplate.spec.template.spec;
      const script = [...containersOf(spec)].map((c: K8sObject) => (c.args ?? []).join(' ')).join('\n');
      assert.match(script, /pg_dump/);
      assert.match(script, /--older-than/);
      assert.equal(cron.spec.concurrencyPolicy, 'Forbid');
    });
  });
}

describe('scenario differences', () => {
  const has = (scenario: string, kind: string, name: string) =>
    render(scenario).some((o) => o.kind === kind && o.metadata.labels?.[COMPONENT] === name);

  it('external datastores: no in-cluster PostgreSQL, Redis or MinIO, and the external endpoints are used', () => {
    for (const name of ['postgresql', 'redis', 'minio'])
      assert.ok(!has('external-datastores', 'StatefulSet', name), name);
    const api = render('external-datastores').find(
      (o) => o.kind === 'Deployment' && o.metadata.labels[COMPONENT] === 'api',
    );
    const env = Object.fromEntries(api?.spec.template.spec.containers[0].env.map((e: K8sObject) => [e.name, e]) ?? []);
    assert.equal(env.NFC_DATABASE_HOST.value, 'nfc.cluster-abc123.eu-west-1.rds.amazonaws.com');
    assert.equal(env.NFC_DATABASE_PASSWORD.valueFrom.secretKeyRef.name, 'nfc-rds');
    assert.equal(env.NFC_REDIS_TLS.value, 'true');
    const envFrom = api?.spec.template.spec.containers[0].envFrom;
    assert.deepEqual(envFrom, [{ secretRef: { name: 'nfc-s3' } }], 'the S3 environment is the external Secret');
    assert.ok(
      has('external-datastores', 'ServiceMonitor', 'operator') && has('external-datastores', 'ServiceMonitor', 'api'),
    );
    // Workers run in a second namespace too, with their own RBAC and NetworkPolicy there.
    const athletes = render('external-datastores').filter((o) => o.metadata.namespace === 'athletes');
    assert.deepEqual(
      new Set(athletes.map((o) => o.kind)),
      new Set(['ServiceAccount', 'Role', 'RoleBinding', 'NetworkPolicy']),
    );
  });

  it('CPU-only: every Job runs the CPU profile', () => {
    const config = operatorSettings(render('cpu-only'))?.config;
    assert.match(config?.job.workerImage ?? '', /nfc-worker-cpu:/);
    const jobs = podSpecs(render('cpu-only')).filter((p) => p.job);
    assert.equal(jobs.length, 1);
    assert.equal(jobs[0]?.spec.nodeSelector, undefined);
  });

  it('queue mode: a worker Deployment consumes the queue, on GPUs', () => {
    const queue = render('queue-mode').find(
      (o) => o.kind === 'Deployment' && o.metadata.labels[COMPONENT] === 'queue-worker',
    );
    assert.ok(queue, 'no queue worker Deployment');
    const c = queue.spec.template.spec.containers[0];
    assert.deepEqual(c.args, ['worker', 'queue']);
    assert.equal(c.resources.limits['nvidia.com/gpu'], 1);
    assert.ok(!has('default', 'Deployment', 'queue-worker'), 'queue workers are off by default');
  });
});
