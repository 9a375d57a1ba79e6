/**
 * The file operations behind the disk store: commit a finished upload (object, then metadata,
 * each by rename), remove objects, and prune the directories deleted keys leave empty.
 */
import type { Dirent } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, rmdir, stat, unlink, writeFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { DEFAULT_CONTENT_TYPE } from './content-types.js';
import { wrapFsError } from './disk-errors.js';
import { bucketDir, type DiskObjectPaths, metaBucketDir, objectPaths, prefixScope } from './disk-paths.js';

/** Renames the finished upload into place, with its metadata beside it. */
export async function commitObject(paths: DiskObjectPaths, tmp: string, contentType: string): Promise<void> {
  const metaTmp = `${tmp}.meta`;
  await writeFile(metaTmp, `${JSON.stringify({ contentType })}\n`);
  try {
    await moveInto(tmp, paths.file);
    try {
      await moveInto(metaTmp, paths.meta);
    } catch (err) {
      await rm(paths.file, { force: true });
      throw err;
    }
  } finally {
    await rm(metaTmp, { force: true });
  }
}

/** The stored Content-Type; application/octet-stream when none was stored (as S3 does). */
export async function readContentType(meta: string): Promise<string> {
  try {
    const parsed = JSON.parse(await readFile(meta, 'utf8')) as { contentType?: unknown };
    return typeof parsed.contentType === 'string' ? parsed.contentType : DEFAULT_CONTENT_TYPE;
  } catch {
    return DEFAULT_CONTENT_TYPE;
  }
}

export function isGone(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/** Removes an object and its metadata; a missing object, or a "directory key", is nothing to remove. */
export async function unlinkObject(paths: DiskObjectPaths): Promise<void> {
  for (const path of [paths.file, paths.meta]) {
    try {
      await unlink(path);
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      if (!(isGone(err) || code === 'EISDIR' || code === 'EPERM')) throw err;
    }
  }
}

/** rename(), creating the parent first; retried when a concurrent delete pruned that parent meanwhile. */
export async function moveInto(from: string, to: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    await mkdir(dirname(to), { recursive: true });
    try {
      await rename(from, to);
      return;
    } catch (err) {
      if ((err as { code?: unknown }).code !== 'ENOENT' || attempt >= 3) throw err;
    }
  }
}

/** Removes empty directories from `dir` up to (not including) `stop`, so deleted keys leave no trace. */
export async function pruneUp(dir: string, stop: string): Promise<void> {
  let current = dir;
  while (current.startsWith(stop + sep)) {
    try {
      await rmdir(current);
    } catch {
      return; // not empty (or already gone): the rest of the way up is not ours to remove
    }
    current = dirname(current);
  }
}

/**
 * Deletes every object of `bucket` whose key starts with `prefix` (a string prefix, as in S3),
 * walking only the directory the prefix names; returns how many were deleted.
 */
export async function deleteByPrefix(root: string, bucket: string, prefix: string): Promise<number> {
  const { dir } = prefixScope(root, bucket, prefix);
  const base = bucketDir(root, bucket);
  const metaBase = metaBucketDir(root, bucket);
  let entries: Dirent[];
  try {
    entries = await readdir(dir, { recursive: true, withFileTypes: true });
  } catch (err) {
    if (isGone(err)) return 0;
    throw wrapFsError('delete', bucket, prefix, err);
  }
  let deleted = 0;
  const dirs = new Set<string>();
  for (const entry of entries) {
    if (!entry.isFile()) continue;
    const key = relative(base, join(entry.parentPath, entry.name)).split(sep).join('/');
    if (!key.startsWith(prefix)) continue;
    try {
      await unlinkObject(objectPaths(root, bucket, key));
    } catch (err) {
      throw wrapFsError('delete', bucket, key, err);
    }
    deleted++;
    dirs.add(dirname(key));
  }
  // Deepest first, so a parent is tried once its children are gone.
  for (const d of [...dirs].sort((a, b) => b.length - a.length)) {
    if (d === '.') continue;
    await pruneUp(join(base, d), base);
    await pruneUp(join(metaBase, d), metaBase);
  }
  return deleted;
}

/** Removes files in `dir` last modified more than `olderThanMs` ago; returns how many. */
export async function removeStaleTemporaries(dir: string, olderThanMs: number, now = Date.now()): Promise<number> {
  let removed = 0;
  const names = await readdir(dir).catch(() => [] as string[]);
  for (const name of names) {
    const path = join(dir, name);
    const info = await stat(path).catch(() => undefined);
    if (info?.isFile() && now - info.mtimeMs > olderThanMs) {
      await rm(path, { force: true });
      removed++;
    }
  }
  return removed;
}
