/** Writes docs/report.schema.json from the TypeBox definition (the single source of truth). */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderReportSchema } from '../services/analysis/report/json-schema.js';
import { REPO_ROOT } from '../test/support/clips.js';

writeFileSync(join(REPO_ROOT, 'docs/report.schema.json'), renderReportSchema());
