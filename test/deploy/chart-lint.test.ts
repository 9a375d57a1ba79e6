/**
 * `helm lint --strict` and `helm template` succeed for every CI scenario of charts/nfc, and the
 * chart refuses what it must refuse (unknown values, "latest" images, an inconsistent dispatch).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { CHART_DIR, KUBE_VERSION, NAMESPACE, RELEASE, render, SCENARIOS, scenarioFile } from './support/chart.js';
import { run } from './support/tools.js';

describe('helm chart charts/nfc', () => {
  it('has the four required CI scenarios (and only ones that render)', () => {
    for (const required of ['default', 'external-datastores', 'cpu-only', 'queue-mode']) {
      assert.ok(SCENARIOS.includes(required), `charts/nfc/ci/${required}-values.yaml is missing`);
    }
  });

  for (const scenario of SCENARIOS) {
    describe(`scenario ${scenario}`, () => {
      it('passes helm lint --strict with zero errors and warnings', () => {
        const r = run('helm', [
          'lint',
          CHART_DIR,
          '--strict',
          '--namespace',
          NAMESPACE,
          '--kube-version',
          KUBE_VERSION,
          '--values',
          scenarioFile(scenario),
        ]);
        const output = `${r.stdout}\n${r.stderr}`;
        assert.equal(r.status, 0, output);
        assert.match(output, /1 chart\(s\) linted, 0 chart\(s\) failed/);
        assert.doesNotMatch(output, /\[(ERROR|WARNING)\]/, output);
      });

      it('renders with helm template into well-formed objects', () => {
        const objects = render(scenario);
        assert.ok(objects.length > 10, `only ${objects.length} objects rendered`);
        for (const o of objects) {
          assert.ok(
            o.apiVersion && o.kind && o.metadata?.name,
            `incomplete object: ${JSON.stringify(o).slice(0, 200)}`,
          );
          assert.equal(
            o.metadata.labels?.['app.kubernetes.io/instance'],
            RELEASE,
            `${o.kind}/${o.metadata.name} lacks the chart's labels`,
          );
        }
        const names = objects.map((o) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`);
        assert.equal(
          new Set(names).size,
          names.length,
          `duplicate objects: ${names.filter((n, i) => names.indexOf(n) !== i)}`,
        );
      });
    });
  }

  describe('refuses bad values', () => {
    const dir = mkdtempSync(join(tmpdir(), 'nfc-chart-'));
    const cases: Array<[string, string, RegExp]> = [
      ['an unknown key (a typo)', 'api:\n  replica: 3\n', /replica/],
      ['an app image tagged latest', 'api:\n  image:\n    tag: latest\n', /api\/image\/tag/],
      ['a datastore image tagged latest', 'redis:\n  image:\n    tag: latest\n', /redis\/image\/tag/],
      ['queue dispatch without queue workers', 'dispatch: queue\n', /queue/],
      ['an external database without its host', 'postgresql:\n  enabled: false\n', /externalPostgresql|host/],
      ['a NodePort-ish service type', 'api:\n  service:\n    type: NodePort\n', /type/],
    ];
    for (const [what, values, message] of cases) {
      it(`fails on ${what}`, () => {
        const file = join(dir, `${what.replace(/\W+/g, '-')}.yaml`);
        writeFileSync(file, values);
        const r = run('helm', [
          'template',
          RELEASE,
          CHART_DIR,
          '--namespace',
          NAMESPACE,
          '--kube-version',
          KUBE_VERSION,
          '--values',
          file,
        ]);
        assert.notEqual(r.status, 0, `helm template accepted ${JSON.stringify(values)}`);
        assert.match(r.stderr, message);
      });
    }
  });
});
