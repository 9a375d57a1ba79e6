import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { REPO_ROOT } from '../../../test/support/clips.js';
import { renderCrdYaml, videoAnalysisCrd } from './crd.js';

test('crds/ matches the TypeScript schema (run `npm run crds` after changing it)', () => {
  const committed = readFileSync(join(REPO_ROOT, 'crds/videoanalyses.nutrifitcoach.io.yaml'), 'utf8');
  assert.equal(committed, renderCrdYaml());
});

test('the CRD is structural: every schema node below spec and status has a type', () => {
  const crd = videoAnalysisCrd() as { spec: { versions: Array<{ schema: { openAPIV3Schema: unknown } }> } };
  const untyped: string[] = [];
  const walk = (node: unknown, path: string) => {
    if (!node || typeof node !== 'object') return;
    const n = node as Record<string, unknown>;
    if (path.includes('.properties.') && !('type' in n) && !('x-kubernetes-int-or-string' in n)) untyped.push(path);
    for (const [k, v] of Object.entries(n.properties ?? {})) walk(v, `${path}.properties.${k}`);
    if (n.items) walk(n.items, `${path}.items`);
  };
  walk(crd.spec.versions[0]?.schema.openAPIV3Schema, 'root');
  assert.deepEqual(untyped, []);
});
