/**
 * Settings from environment variables, checked against a TypeBox schema that holds the
 * defaults; every problem is reported at once with its path and variable, and the result is
 * deeply frozen (house style: fastify's initial-config-validation, kueue's config validation).
 * Each process has its own schema and variable table (services/api/config.ts, …).
 */
import type { Static, TObject } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';

export type EnvKind = 'string' | 'integer' | 'number' | 'boolean' | 'json' | 'list';

/** One setting: its JSON pointer in the schema, the variable that sets it, how to read it. */
export type EnvBinding = readonly [path: string, variable: string, kind: EnvKind];

export interface ConfigProblem {
  /** JSON pointer into the config, e.g. /http/port */
  path: string;
  /** The environment variable that sets it, when one does. */
  variable?: string;
  message: string;
}

/** Invalid settings: every problem, each with its path and variable. Match on `code`. */
export class ConfigError extends Error {
  readonly code = 'INVALID_CONFIG';
  constructor(
    title: string,
    readonly problems: readonly ConfigProblem[],
  ) {
    super(
      `invalid ${title} settings:\n${problems.map((p) => `  ${p.path}${p.variable ? ` (${p.variable})` : ''}: ${p.message}`).join('\n')}`,
    );
    this.name = 'ConfigError';
  }
}

export interface EnvConfigSpec<S extends TObject> {
  /** "API", "queue worker": names the settings in the error. */
  title: string;
  schema: S;
  bindings: readonly EnvBinding[];
  /** Values set in code (command-line flags), applied over the environment. */
  overrides?: Record<string, unknown>;
  /** Checks across settings, run when each setting is valid on its own. */
  crossChecks?: (config: Static<S>) => ConfigProblem[];
}

/** Reads, defaults, checks and freezes; throws a ConfigError listing every problem. */
export function loadEnvConfig<S extends TObject>(env: NodeJS.ProcessEnv, spec: EnvConfigSpec<S>): Readonly<Static<S>> {
  const problems: ConfigProblem[] = [];
  const raw: Record<string, unknown> = {};
  for (const [path, variable, kind] of spec.bindings) {
    const text = env[variable]?.trim();
    if (text === undefined || text === '') continue;
    const parsed = parseEnvValue(text, kind);
    if (parsed.error) problems.push({ path, variable, message: parsed.error });
    else setPath(raw, path, parsed.value);
  }
  for (const [path, value] of Object.entries(spec.overrides ?? {})) {
    if (value !== undefined) setPath(raw, path, value);
  }
  const value = Value.Default(spec.schema, raw) as Static<S>;
  for (const error of Value.Errors(spec.schema, value)) {
    const variable = spec.bindings.find(([p]) => error.path === p || error.path.startsWith(`${p}/`))?.[1];
    const choices = (error.schema.anyOf as Array<{ const?: unknown }> | undefined)?.map((s) => s.const);
    const message =
      choices?.every((c) => c !== undefined) === true
        ? `expected one of ${choices.map((c) => JSON.stringify(c)).join(', ')}`
        : error.message;
    problems.push({ path: error.path || '/', ...(variable ? { variable } : {}), message });
  }
  if (problems.length === 0 && spec.crossChecks) problems.push(...spec.crossChecks(value));
  if (problems.length > 0) throw new ConfigError(spec.title, dedupe(problems));
  return deepFreeze(value);
}

export function parseEnvValue(text: string, kind: EnvKind): { value?: unknown; error?: string } {
  switch (kind) {
    case 'string':
      return { value: text };
    case 'integer':
      // Left as text when not a number, so the schema reports it with the expected type.
      return { value: /^-?\d+$/.test(text) ? Number(text) : text };
    case 'number':
      return { value: Number.isFinite(Number(text)) ? Number(text) : text };
    case 'boolean':
      if (['true', '1', 'yes'].includes(text.toLowerCase())) return { value: true };
      if (['false', '0', 'no'].includes(text.toLowerCase())) return { value: false };
      return { error: `expected true or false, got "${text}"` };
    case 'list':
      return {
        value: text
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean),
      };
    case 'json':
      try {
        return { value: JSON.parse(text) };
      } catch (err) {
        return { error: `not valid JSON (${(err as Error).message})` };
      }
  }
}

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split('/').slice(1);
  let node = target;
  for (const part of parts.slice(0, -1)) {
    node[part] ??= {};
    node = node[part] as Record<string, unknown>;
  }
  node[parts[parts.length - 1] as string] = value;
}

function dedupe(problems: ConfigProblem[]): ConfigProblem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const key = `${p.path}\u0000${p.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function deepFreeze<V>(value: V): V {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
