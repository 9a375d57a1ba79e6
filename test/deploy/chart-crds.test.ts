/**
 * The chart installs the generated CRD: charts/nfc/crds/ is a copy of crds/ (made by
 * `npm run crds`), and Helm picks it up.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { CHART_DIR, parseManifests, renderText } from './support/chart.js';
import { ROOT } from './support/tools.js';

const SYNC_HINT = 'run `npm run crds` (it writes crds/ and charts/nfc/crds/)';

describe('the chart CRDs', () => {
  it('are byte-for-byte the generated ones in crds/', () => {
    const generated = readdirSync(join(ROOT, 'crds'))
      .filter((f) => f.endsWith('.yaml'))
      .sort();
    const inChart = readdirSync(join(CHART_DIR, 'crds')).sort();
    assert.ok(generated.length > 0, 'crds/ is empty');
    assert.deepEqual(inChart, generated, `charts/nfc/crds/ has other files than crds/: ${SYNC_HINT}`);
    for (const file of generated) {
      const want = readFileSync(join(ROOT, 'crds', file), 'utf8');
      const got = readFileSync(join(CHART_DIR, 'crds', file), 'utf8');
      assert.ok(got === want, `charts/nfc/crds/${file} differs from crds/${file}: ${SYNC_HINT}`);
    }
  });

  it('are installed by Helm (helm template --include-crds) and not templated otherwise', () => {
    const withCrds = parseManifests(renderText('default', ['--include-crds']));
    const crd = withCrds.find((o) => o.kind === 'CustomResourceDefinition');
    assert.equal(crd?.metadata.name, 'videoanalyses.nutrifitcoach.io');
    assert.equal(crd?.spec.versions[0].name, 'v1alpha1');
    const without = parseManifests(renderText('default'));
    assert.ok(!without.some((o) => o.kind === 'CustomResourceDefinition'), 'the CRD must not be a templated resource');
  });
});
