/**
 * kind-config.yaml and skaffold.yaml, validated against the real schemas: kind's own Go types
 * (strict decoding, tools/kind-validate) and the JSON schema shipped in skaffold's Go module,
 * plus the cross-references between them, the Dockerfiles and the chart.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Ajv } from 'ajv';
import { parse } from 'yaml';
import { CHART_DIR, type K8sObject, KUBE_VERSION, NAMESPACE, parseManifests, RELEASE } from './support/chart.js';
import { parseDockerfile } from './support/dockerfile.js';
import { goModuleFile } from './support/go-module.js';
import { ROOT, run, runOk } from './support/tools.js';

/** The skaffold release whose schema skaffold.yaml is checked against (its latest apiVersion). */
const SKAFFOLD_MODULE = 'github.com/GoogleContainerTools/skaffold/v2';
const SKAFFOLD_VERSION = 'v2.16.1';
const KIND_VALIDATE = join(ROOT, 'tools/kind-validate');

/** Path of skaffold's JSON schema for an apiVersion, from skaffold's Go module. */
function skaffoldSchemaPath(apiVersion: string): string {
  const file = `${apiVersion.replace('skaffold/', '')}.json`;
  return goModuleFile(SKAFFOLD_MODULE, SKAFFOLD_VERSION, [
    `docs-v2/content/en/schemas/${file}`,
    `docs/content/en/schemas/${file}`,
  ]);
}

/** RFC 6902 add/replace/remove, which is what skaffold profiles' patches use. */
function applyPatch(doc: K8sObject, patches: Array<{ op: string; path: string; value?: unknown }>): K8sObject {
  const out = structuredClone(doc);
  for (const p of patches) {
    const keys = p.path
      .split('/')
      .slice(1)
      .map((k) => k.replace(/~1/g, '/').replace(/~0/g, '~'));
    const last = keys.pop() as string;
    // biome-ignore lint/suspicious/noExplicitAny: walking arbitrary JSON
    let parent: any = out;
    for (const k of keys) {
      parent = parent[Array.isArray(parent) ? Number(k) : k];
      assert.ok(parent !== undefined, `patch path ${p.path} does not exist`);
    }
    if (Array.isArray(parent)) {
      const index = last === '-' ? parent.length : Number(last);
      if (p.op === 'add') parent.splice(index, 0, p.value);
      else if (p.op === 'replace') parent[index] = p.value;
      else if (p.op === 'remove') parent.splice(index, 1);
      else assert.fail(`unsupported patch op ${p.op}`);
    } else if (p.op === 'add' || p.op === 'replace') {
      if (p.op === 'replace') assert.ok(last in parent, `patch path ${p.path} does not exist`);
      parent[last] = p.value;
    } else if (p.op === 'remove') {
      delete parent[last];
    } else {
      assert.fail(`unsupported patch op ${p.op}`);
    }
  }
  return out;
}

/** Whether a dotted values path (as in --set) exists in the chart's values.yaml. */
function valuesPathExists(values: K8sObject, dotted: string): boolean {
  // biome-ignore lint/suspicious/noExplicitAny: walking arbitrary YAML
  let node: any = values;
  for (const key of dotted.split('.')) {
    if (node === null || typeof node !== 'object' || !(key in node)) return false;
    node = node[key];
  }
  return true;
}

describe('skaffold.yaml', () => {
  const config = parse(readFileSync(join(ROOT, 'skaffold.yaml'), 'utf8')) as K8sObject;
  const profiles = (config.profiles ?? []) as K8sObject[];
  const variants: Array<[string, K8sObject]> = [
    ['(no profile)', config],
    ...profiles.map((p): [string, K8sObject] => [`profile ${p.name}`, applyPatch(config, p.patches ?? [])]),
  ];

  it(`is valid against skaffold ${SKAFFOLD_VERSION}'s JSON schema for its apiVersion, with every profile applied`, () => {
    assert.match(config.apiVersion, /^skaffold\/v\d+(beta\d+)?$/);
    const schema = JSON.parse(readFileSync(skaffoldSchemaPath(config.apiVersion), 'utf8'));
    // The schema carries editor hints (x-intellij-html-description, preferredOrder…): not strict.
    const ajv = new Ajv({ strict: false, allErrors: true });
    const validate = ajv.compile(schema);
    for (const [name, variant] of variants) {
      const ok = validate(variant);
      assert.ok(ok, `${name}: ${ajv.errorsText(validate.errors, { separator: '\n' })}`);
    }
  });

  it('builds the three images from Dockerfiles and targets that exist, the GPU worker in the gpu profile', () => {
    for (const [name, variant] of variants) {
      for (const artifact of variant.build.artifacts) {
        const dockerfile = join(ROOT, artifact.context ?? '.', artifact.docker.dockerfile);
        assert.ok(existsSync(dockerfile), `${name}: ${artifact.docker.dockerfile} does not exist`);
        if (artifact.docker.target) {
          const stages = parseDockerfile(readFileSync(dockerfile, 'utf8')).stages.map((s) => s.name);
          assert.ok(
            stages.includes(artifact.docker.target),
            `${name}: no stage ${artifact.docker.target} in ${dockerfile}`,
          );
        }
      }
    }
    const images = (c: K8sObject) => c.build.artifacts.map((a: K8sObject) => a.image).sort();
    assert.deepEqual(images(config), ['nfc-api', 'nfc-operator', 'nfc-worker-cpu']);
    const gpu = variants.find(([n]) => n === 'profile gpu')?.[1];
    assert.ok(gpu, 'no gpu profile');
    const worker = gpu.build.artifacts.find((a: K8sObject) => a.image === 'nfc-worker');
    assert.equal(worker?.docker.target, 'gpu');
    assert.equal(gpu.deploy.helm.releases[0].setValues['worker.job.gpu.enabled'], true);
  });

  it('deploys the chart with its dev values, sets every built image, and forwards the API Service', () => {
    const values = parse(readFileSync(join(CHART_DIR, 'values.yaml'), 'utf8')) as K8sObject;
    for (const [name, variant] of variants) {
      const [release] = variant.deploy.helm.releases;
      assert.equal(join(ROOT, release.chartPath), CHART_DIR);
      for (const file of release.valuesFiles) assert.ok(existsSync(join(ROOT, file)), `${name}: ${file}`);
      const keys = [...Object.keys(release.setValueTemplates ?? {}), ...Object.keys(release.setValues ?? {})];
      for (const key of keys) assert.ok(valuesPathExists(values, key), `${name}: ${key} is not a chart value`);
      for (const artifact of variant.build.artifacts) {
        const varName = artifact.image.replace(/[-.]/g, '_');
        const templates = JSON.stringify(release.setValueTemplates);
        assert.ok(
          templates.includes(`IMAGE_REPO_${varName}`),
          `${name}: ${artifact.image}'s repository is not passed to the chart`,
        );
        assert.ok(
          templates.includes(`IMAGE_TAG_${varName}`),
          `${name}: ${artifact.image}'s tag is not passed to the chart`,
        );
      }
    }
    // The forwarded Service is the API's, as the chart names it with those values.
    const [release] = config.deploy.helm.releases;
    const objects = parseManifests(
      runOk('helm', [
        'template',
        release.name,
        CHART_DIR,
        '--namespace',
        release.namespace,
        '--kube-version',
        KUBE_VERSION,
        ...release.valuesFiles.flatMap((f: string) => ['--values', join(ROOT, f)]),
      ]),
    );
    const forward = config.portForward.find((p: K8sObject) => p.resourceType === 'service');
    const svc = objects.find((o) => o.kind === 'Service' && o.metadata.name === forward?.resourceName);
    assert.ok(svc, `skaffold forwards service ${forward?.resourceName}, which the chart does not create`);
    assert.equal(svc.metadata.labels['app.kubernetes.io/component'], 'api');
    assert.equal(forward.namespace, release.namespace);
    assert.ok(
      svc.spec.ports.some((p: K8sObject) => p.port === forward.port),
      'the forwarded port is not the Service port',
    );
    assert.equal(release.name, RELEASE);
    assert.equal(release.namespace, NAMESPACE);
  });
});

describe('kind-config.yaml', () => {
  const validate = (file: string) => run('go', ['run', '.', file], { cwd: KIND_VALIDATE });

  it("decodes strictly into kind's v1alpha4.Cluster with valid node roles", () => {
    const r = validate(join(ROOT, 'kind-config.yaml'));
    assert.equal(r.status, 0, r.stderr);
    const cluster = JSON.parse(r.stdout) as K8sObject;
    const roles = cluster.nodes.map((n: K8sObject) => n.role);
    assert.deepEqual(roles, ['control-plane', 'worker', 'worker']);

    const [controlPlane, ...workers] = cluster.nodes as K8sObject[];
    const hostPorts = (controlPlane?.extraPortMappings ?? []).map((m: K8sObject) => [m.containerPort, m.hostPort]);
    assert.deepEqual(hostPorts, [
      [80, 80],
      [443, 443],
    ]);
    assert.equal(
      controlPlane?.labels?.['ingress-ready'],
      'true',
      'ingress-nginx for kind runs on the ingress-ready node',
    );

    // One worker is the GPU node the chart's GPU Jobs select (default and dev values).
    const values = parse(readFileSync(join(CHART_DIR, 'values.yaml'), 'utf8')) as K8sObject;
    const dev = parse(readFileSync(join(CHART_DIR, 'ci/dev-values.yaml'), 'utf8')) as K8sObject;
    const gpuNodes = workers.filter((w) => w.labels?.['nvidia.com/gpu.present'] === 'true');
    assert.equal(gpuNodes.length, 1, 'exactly one worker is labelled as a GPU node');
    for (const selector of [values.worker.job.gpu.nodeSelector, dev.worker.job.gpu.nodeSelector]) {
      for (const [k, v] of Object.entries(selector as Record<string, string>)) {
        assert.equal(gpuNodes[0]?.labels?.[k], v, `the GPU node lacks ${k}=${v}`);
      }
    }
    const cpuNode = workers.find((w) => w !== gpuNodes[0]);
    assert.equal(cpuNode?.labels?.['nvidia.com/gpu.present'], undefined);
  });

  it('rejects a misspelt field and a wrong role (the validator is strict)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'nfc-kind-'));
    const cases: Array<[string, string, RegExp]> = [
      [
        'typo.yaml',
        'kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n- role: control-plane\n  extraPortMapping: []\n',
        /unknown field "extraPortMapping"/,
      ],
      [
        'role.yaml',
        'kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n- role: control-plane\n- role: gpu\n',
        /unknown role "gpu"/,
      ],
      [
        'no-cp.yaml',
        'kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n- role: worker\n',
        /no control-plane node/,
      ],
    ];
    for (const [file, text, message] of cases) {
      writeFileSync(join(dir, file), text);
      const r = validate(join(dir, file));
      assert.notEqual(r.status, 0, `${file} was accepted`);
      assert.match(r.stderr, message);
    }
  });
});
