/**
 * Builds the CustomResourceDefinition from the TypeBox schema: a structural OpenAPI v3
 * schema (TypeBox's JSON Schema with its internal markers removed), the status subresource,
 * printer columns and CEL rules.
 */
import { stringify } from 'yaml';
import {
  GROUP,
  KIND,
  PLURAL,
  ROOT_VALIDATIONS,
  SHORT_NAMES,
  SINGULAR,
  VERSION,
  VideoAnalysisSpec,
  VideoAnalysisStatus,
} from './video-analysis.js';

/**
 * Structural copy of a TypeBox schema: JSON drops TypeBox's symbol-keyed markers, and
 * `additionalProperties: false` goes (Kubernetes forbids it beside `properties` and prunes
 * unknown fields anyway; the API keeps it for request validation).
 */
function toOpenApi(schema: unknown): unknown {
  return JSON.parse(JSON.stringify(schema), (key, value) => (key === 'additionalProperties' ? undefined : value));
}

export function videoAnalysisCrd(): Record<string, unknown> {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${PLURAL}.${GROUP}` },
    spec: {
      group: GROUP,
      names: { kind: KIND, plural: PLURAL, singular: SINGULAR, shortNames: SHORT_NAMES, categories: ['nutrifitcoach'] },
      scope: 'Namespaced',
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: [
            { name: 'Exercise', type: 'string', jsonPath: '.spec.exercise' },
            { name: 'Phase', type: 'string', jsonPath: '.status.phase' },
            { name: 'Reps', type: 'integer', jsonPath: '.status.summary.reps' },
            { name: 'Score', type: 'integer', jsonPath: '.status.summary.score' },
            { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
          ],
          schema: {
            openAPIV3Schema: {
              type: 'object',
              description: 'An exercise video to analyse, and the analysis result.',
              required: ['spec'],
              properties: {
                apiVersion: { type: 'string' },
                kind: { type: 'string' },
                metadata: { type: 'object' },
                spec: toOpenApi(VideoAnalysisSpec),
                status: toOpenApi(VideoAnalysisStatus),
              },
              'x-kubernetes-validations': ROOT_VALIDATIONS,
            },
          },
        },
      ],
    },
  };
}

export function renderCrdYaml(): string {
  return `# Generated from services/platform/kube/video-analysis.ts by \`npm run crds\`. Do not edit.\n${stringify(videoAnalysisCrd(), { lineWidth: 0 })}`;
}
