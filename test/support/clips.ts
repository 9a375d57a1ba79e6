/**
 * The real exercise clips in ../shared/data (hand-counted reps in manifest.csv). They are
 * read in place, never copied into the project. A missing folder is a test failure that
 * says where the clips are expected.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

export interface Clip {
  file: string;
  path: string;
  exercise: string;
  view: string;
  reps: number;
}

export function clipsDir(): string {
  const dir = process.env.NFC_TEST_DATA ?? resolve(REPO_ROOT, '../shared/data');
  if (!existsSync(join(dir, 'manifest.csv'))) {
    throw new Error(
      `The test clips are missing: expected ${dir}/manifest.csv (the shared/data folder beside this checkout). Set NFC_TEST_DATA to their folder.`,
    );
  }
  return dir;
}

/** Parses manifest.csv (no quoted commas in it). */
export function loadClips(): Clip[] {
  const dir = clipsDir();
  const [header, ...rows] = readFileSync(join(dir, 'manifest.csv'), 'utf8').trim().split('\n');
  const cols = (header ?? '').split(',');
  const at = (cells: string[], name: string) => cells[cols.indexOf(name)] ?? '';
  return rows.map((row) => {
    const cells = row.split(',');
    return {
      file: at(cells, 'file'),
      path: join(dir, at(cells, 'file')),
      exercise: at(cells, 'exercise'),
      view: at(cells, 'view'),
      reps: Number(at(cells, 'reps')),
    };
  });
}

export function clip(name: string): Clip {
  const found = loadClips().find((c) => c.file === name);
  if (!found) throw new Error(`clip ${name} is not in the manifest`);
  return found;
}
