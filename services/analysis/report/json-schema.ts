/** The report's JSON Schema document, as published in docs/report.schema.json. */
import { REPORT_VERSION, ReportSchema } from './schema.js';

export function renderReportSchema(): string {
  const document = {
    $schema: 'http://json-schema.org/draft-07/schema#',
    $id: `https://nutrifitcoach.io/schemas/report/${REPORT_VERSION}.json`,
    title: `NutriFitCoach analysis report ${REPORT_VERSION}`,
    ...ReportSchema,
  };
  return `${JSON.stringify(document, null, 2)}\n`;
}
