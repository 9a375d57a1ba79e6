/**
 * Files shipped inside Go modules (skaffold's JSON schemas, prometheus-operator's CRDs), fetched
 * with `go mod download` into the module cache once; the module's directory is remembered in
 * .cache/deploy-tests so later runs do not start the go command.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, runOk } from './tools.js';

const CACHE_DIR = join(ROOT, '.cache/deploy-tests');

/** The directory of module@version in the Go module cache, downloading it if needed. */
export function goModuleDir(module: string, version: string): string {
  const cached = join(CACHE_DIR, `${module.replace(/\//g, '_')}@${version}.dir`);
  if (existsSync(cached)) {
    const dir = readFileSync(cached, 'utf8').trim();
    if (existsSync(dir)) return dir;
  }
  const info = JSON.parse(runOk('go', ['mod', 'download', '-json', `${module}@${version}`], { cwd: tmpdir() })) as {
    Dir?: string;
    Error?: string;
  };
  if (!info.Dir) throw new Error(`go mod download ${module}@${version}: ${info.Error ?? 'no directory'}`);
  mkdirSync(CACHE_DIR, { recursive: true });
  writeFileSync(cached, `${info.Dir}\n`);
  return info.Dir;
}

/** The first of `candidates` (paths inside the module) that exists. */
export function goModuleFile(module: string, version: string, candidates: string[]): string {
  const dir = goModuleDir(module, version);
  const found = candidates.map((c) => join(dir, c)).find((p) => existsSync(p));
  if (!found) throw new Error(`${module}@${version} has none of ${candidates.join(', ')}`);
  return found;
}
