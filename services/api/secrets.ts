/**
 * Secrets of an embedded install (`nfc serve --data DIR`): the access-token key and the signing
 * key of disk-object URLs, generated once and kept in DIR/secrets.json (mode 0600) so tokens
 * and links survive restarts. A cluster install sets NFC_JWT_SECRET from a Secret instead.
 */
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface LocalSecrets {
  jwtSecret: string;
  objectSigningSecret: string;
}

export async function loadOrCreateSecrets(dataDir: string): Promise<LocalSecrets> {
  const file = join(dataDir, 'secrets.json');
  try {
    const stored = JSON.parse(await readFile(file, 'utf8')) as Partial<LocalSecrets>;
    if (typeof stored.jwtSecret === 'string' && typeof stored.objectSigningSecret === 'string') {
      return { jwtSecret: stored.jwtSecret, objectSigningSecret: stored.objectSigningSecret };
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const secrets = {
    jwtSecret: randomBytes(48).toString('base64url'),
    objectSigningSecret: randomBytes(48).toString('base64url'),
  };
  await writeFile(file, `${JSON.stringify(secrets, null, 2)}\n`, { mode: 0o600 });
  return secrets;
}
