import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { REPO_ROOT } from '../../../test/support/clips.js';
import { renderReportSchema } from './json-schema.js';

test('docs/report.schema.json matches the TypeBox report schema (run `npm run schema` after changing it)', () => {
  const published = readFileSync(join(REPO_ROOT, 'docs/report.schema.json'), 'utf8');
  assert.equal(published, renderReportSchema());
});
