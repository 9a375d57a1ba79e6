/**
 * Just enough of a Dockerfile parser for the tests: instructions with their line numbers
 * (continuations joined, comments kept apart), build stages, COPY sources, exec-form arrays;
 * and .dockerignore matching with Docker's rules (last matching pattern wins, "!" re-includes,
 * a pattern that matches a parent directory matches what is inside).
 */

export interface Instruction {
  /** Upper-case keyword: FROM, RUN, COPY… */
  keyword: string;
  /** Everything after the keyword, continuation lines joined. */
  rest: string;
  line: number;
  /** The comment lines right above it. */
  comments: string[];
}

export interface Stage {
  /** The FROM image, with ARG defaults declared before the first FROM substituted. */
  base: string;
  name?: string;
  instructions: Instruction[];
}

export function parseDockerfile(text: string): { args: Record<string, string>; stages: Stage[] } {
  const instructions: Instruction[] = [];
  let comments: string[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]?.trim() ?? '';
    if (line === '') {
      comments = [];
      continue;
    }
    if (line.startsWith('#')) {
      comments.push(line);
      continue;
    }
    const start = i;
    let joined = line;
    while (joined.endsWith('\\') && i + 1 < lines.length) {
      i++;
      const next = lines[i]?.trim() ?? '';
      if (next.startsWith('#')) continue;
      joined = `${joined.slice(0, -1).trimEnd()} ${next}`;
    }
    const m = /^(\S+)\s*(.*)$/.exec(joined);
    if (m?.[1]) instructions.push({ keyword: m[1].toUpperCase(), rest: m[2] ?? '', line: start + 1, comments });
    comments = [];
  }

  const args: Record<string, string> = {};
  const stages: Stage[] = [];
  for (const ins of instructions) {
    if (ins.keyword === 'ARG' && stages.length === 0) {
      const [name, value = ''] = ins.rest.split('=', 2);
      if (name) args[name.trim()] = value.trim();
    } else if (ins.keyword === 'FROM') {
      const [image = '', as, name] = ins.rest.replace(/--platform=\S+\s*/, '').split(/\s+/);
      const base = image.replace(/\$\{(\w+)\}|\$(\w+)/g, (_, a, b) => args[a ?? b] ?? '');
      stages.push({ base, name: as?.toUpperCase() === 'AS' ? name : undefined, instructions: [] });
    } else {
      stages.at(-1)?.instructions.push(ins);
    }
  }
  return { args, stages };
}

/** The JSON array of an exec-form ENTRYPOINT/CMD, or undefined for the shell form. */
export function execForm(rest: string): string[] | undefined {
  try {
    const value = JSON.parse(rest) as unknown;
    return Array.isArray(value) && value.every((v) => typeof v === 'string') ? value : undefined;
  } catch {
    return undefined;
  }
}

export interface Copy {
  from?: string;
  sources: string[];
  dest: string;
  line: number;
}

/** A COPY/ADD instruction's flags, sources and destination. */
export function parseCopy(ins: Instruction): Copy {
  const words = execForm(ins.rest) ?? ins.rest.split(/\s+/).filter(Boolean);
  let from: string | undefined;
  const operands: string[] = [];
  for (const w of words) {
    if (w.startsWith('--from=')) from = w.slice('--from='.length);
    else if (!w.startsWith('--')) operands.push(w);
  }
  return { from, sources: operands.slice(0, -1), dest: operands.at(-1) ?? '', line: ins.line };
}

function globToRegExp(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === '*' && pattern[i + 1] === '*') {
      i++;
      if (pattern[i + 1] === '/') {
        i++;
        re += '(?:.*/)?';
      } else {
        re += '.*';
      }
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/** Whether .dockerignore (its text) keeps `path` (relative to the context) out of the build context. */
export function dockerIgnored(dockerignore: string, path: string): boolean {
  const parts = path.replace(/^\.\/|\/$/g, '').split('/');
  const candidates = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
  let excluded = false;
  for (const raw of dockerignore.split('\n')) {
    let pattern = raw.trim();
    if (pattern === '' || pattern.startsWith('#')) continue;
    const negated = pattern.startsWith('!');
    if (negated) pattern = pattern.slice(1).trim();
    pattern = pattern.replace(/^\/+|\/+$/g, '');
    const re = globToRegExp(pattern);
    if (candidates.some((c) => re.test(c))) excluded = !negated;
  }
  return excluded;
}
