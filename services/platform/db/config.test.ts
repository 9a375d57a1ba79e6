import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DatabaseConfigError, databaseConfigFromEnv, embeddedDatabaseConfig } from './config.js';

describe('databaseConfigFromEnv', () => {
  it('reads the NFC_DATABASE_* variables', () => {
    const c = databaseConfigFromEnv({
      NFC_DATABASE_HOST: 'db.internal',
      NFC_DATABASE_PORT: '6432',
      NFC_DATABASE_NAME: 'coach',
      NFC_DATABASE_USER: 'api',
      NFC_DATABASE_PASSWORD: ' s3cret ',
      NFC_DATABASE_SSLMODE: 'VERIFY-FULL',
      NFC_DATABASE_SSLROOTCERT: '/etc/ssl/rds.pem',
      NFC_DATABASE_POOL_MAX: '20',
      NFC_DATABASE_CONNECT_TIMEOUT_MS: '2000',
      NFC_DATABASE_STATEMENT_TIMEOUT_MS: '0',
    });
    assert.deepEqual(c, {
      kind: 'postgres',
      host: 'db.internal',
      port: 6432,
      database: 'coach',
      user: 'api',
      password: ' s3cret ', // kept as given: spaces can be part of a password
      sslmode: 'verify-full',
      sslRootCert: '/etc/ssl/rds.pem',
      poolMax: 20,
      connectionTimeoutMs: 2000,
      statementTimeoutMs: 0,
    });
    assert.ok(Object.isFrozen(c));
  });

  it('needs only the host: the rest has defaults', () => {
    assert.deepEqual(databaseConfigFromEnv({ NFC_DATABASE_HOST: 'localhost' }), {
      kind: 'postgres',
      host: 'localhost',
      port: 5432,
      database: 'nfc',
      user: 'nfc',
      sslmode: 'disable',
      poolMax: 10,
      connectionTimeoutMs: 5000,
      statementTimeoutMs: 30_000,
    });
  });

  it('reports every problem at once, naming each variable', () => {
    assert.throws(
      () =>
        databaseConfigFromEnv({
          NFC_DATABASE_PORT: '70000',
          NFC_DATABASE_SSLMODE: 'prefer',
          NFC_DATABASE_SSLROOTCERT: '/ca.pem',
          NFC_DATABASE_POOL_MAX: '1.5',
        }),
      (err: unknown) => {
        assert.ok(err instanceof DatabaseConfigError);
        assert.equal(err.code, 'DATABASE_CONFIG');
        assert.equal(err.problems.length, 5, err.message);
        for (const name of ['HOST', 'PORT', 'SSLMODE', 'SSLROOTCERT', 'POOL_MAX']) {
          assert.match(err.message, new RegExp(`NFC_DATABASE_${name}`));
        }
        assert.match(err.message, /disable, require, verify-full/);
        return true;
      },
    );
  });

  it('treats blank variables as unset', () => {
    assert.throws(() => databaseConfigFromEnv({ NFC_DATABASE_HOST: '  ' }), /NFC_DATABASE_HOST is required/);
    const c = databaseConfigFromEnv({ NFC_DATABASE_HOST: 'h', NFC_DATABASE_PORT: '', NFC_DATABASE_PASSWORD: '' });
    assert.equal(c.port, 5432);
    assert.equal('password' in c, false);
  });
});

describe('embeddedDatabaseConfig', () => {
  it('keeps the embedded database in DIR/db', () => {
    assert.deepEqual(embeddedDatabaseConfig('/var/lib/nfc'), { kind: 'pglite', dataDir: '/var/lib/nfc/db' });
  });
});
