/**
 * What a platform engineer reads: every value in values.yaml is commented, the README says how
 * to restore a backup, and the Grafana dashboard charts every metric the operator and API export.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { isMap, isScalar, type Pair, parseDocument, type YAMLMap } from 'yaml';
import { CHART_DIR, render } from './support/chart.js';

const METRICS = [
  'nfc_operator_reconciles_total',
  'nfc_operator_reconcile_errors_total',
  'nfc_operator_reconcile_duration_seconds',
  'nfc_operator_queue_depth',
  'nfc_operator_jobs',
  'http_request_duration_seconds',
  'nfc_api_uploads_total',
];

/**
 * Keys without a description: a key is described by the comment above it (which covers its whole
 * value, e.g. a resources block); an undescribed key must be a section whose keys all are.
 */
function undescribed(map: YAMLMap, path: string[]): string[] {
  return map.items.flatMap((pair: Pair, index) => {
    const key = isScalar(pair.key) ? String(pair.key.value) : '?';
    const comment =
      (pair.key as { commentBefore?: string } | null)?.commentBefore ?? (index === 0 ? map.commentBefore : undefined);
    if (comment?.trim()) return [];
    if (isMap(pair.value) && pair.value.items.length > 0) return undescribed(pair.value, [...path, key]);
    return [[...path, key].join('.')];
  });
}

describe('chart documentation', () => {
  it('comments every value in values.yaml', () => {
    const doc = parseDocument(readFileSync(join(CHART_DIR, 'values.yaml'), 'utf8'));
    assert.ok(isMap(doc.contents));
    assert.deepEqual(undescribed(doc.contents, []), []);
  });

  it('has a README that says how to install, use external datastores and restore a backup', () => {
    const readme = readFileSync(join(CHART_DIR, 'README.md'), 'utf8');
    for (const heading of [/^## Install/m, /^## External datastores/m, /^## Backups and restore/m]) {
      assert.match(readme, heading);
    }
    assert.match(readme, /pg_restore/);
    assert.match(readme, /mc cp/);
  });

  it('ships a Grafana dashboard over the operator and API metrics', () => {
    const dashboard = JSON.parse(readFileSync(join(CHART_DIR, 'dashboards/nfc.json'), 'utf8'));
    const exprs = JSON.stringify(dashboard.panels.flatMap((p: { targets?: unknown[] }) => p.targets ?? []));
    for (const metric of METRICS) assert.ok(exprs.includes(metric), `no panel shows ${metric}`);
    const rendered = render('external-datastores').find((o) => o.kind === 'ConfigMap' && o.data?.['nfc.json']);
    assert.ok(rendered, 'the dashboard ConfigMap is not rendered when metrics.dashboard.enabled');
    assert.equal(rendered.metadata.labels.grafana_dashboard, '1');
    assert.deepEqual(JSON.parse(rendered.data['nfc.json']), dashboard);
  });
});
