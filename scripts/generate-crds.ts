/** Writes crds/videoanalyses.nutrifitcoach.io.yaml from the TypeBox schema. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderCrdYaml } from '../services/platform/kube/crd.js';
import { REPO_ROOT } from '../test/support/clips.js';

writeFileSync(join(REPO_ROOT, 'crds/videoanalyses.nutrifitcoach.io.yaml'), renderCrdYaml());
