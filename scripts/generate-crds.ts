/**
 * Writes crds/videoanalyses.nutrifitcoach.io.yaml from the TypeBox schema, and the same bytes
 * into the Helm chart's crds/ (Helm installs CRDs from there before the templates).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderCrdYaml } from '../services/platform/kube/crd.js';
import { REPO_ROOT } from '../test/support/clips.js';

const yaml = renderCrdYaml();
for (const dir of ['crds', 'charts/nfc/crds'])
  writeFileSync(join(REPO_ROOT, dir, 'videoanalyses.nutrifitcoach.io.yaml'), yaml);
