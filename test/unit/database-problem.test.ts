import { explainDatabaseError } from '../../src/db/database-problem';

const URL = 'mysql://origin:s3cret-pw@db.example.com:3307/live';

describe('explainDatabaseError', () => {
  test.each([
    ['ER_BAD_DB_ERROR', 'database "live" does not exist on MySQL at db.example.com:3307: create it with CREATE DATABASE `live` CHARACTER SET utf8mb4'],
    ['ER_ACCESS_DENIED_ERROR', 'MySQL at db.example.com:3307 refused user "origin" (access denied): check the user and password in DATABASE_URL'],
    ['ER_ACCESS_DENIED_NO_PASSWORD_ERROR', 'MySQL at db.example.com:3307 refused user "origin" (access denied): check the user and password in DATABASE_URL'],
    ['ER_DBACCESS_DENIED_ERROR', 'MySQL at db.example.com:3307 does not let user "origin" use database "live": GRANT ALL ON `live`.* TO \'origin\'@\'%\''],
    ['ECONNREFUSED', 'cannot reach MySQL at db.example.com:3307 (ECONNREFUSED): is it running, and are the host and port in DATABASE_URL right?'],
    ['ETIMEDOUT', 'cannot reach MySQL at db.example.com:3307 (ETIMEDOUT): is it running, and are the host and port in DATABASE_URL right?'],
    ['ENOTFOUND', 'cannot find the MySQL host "db.example.com" (ENOTFOUND): check the host in DATABASE_URL'],
  ])('%s: one line saying what to do, without the password', (code, message) => {
    const explained = explainDatabaseError(Object.assign(new Error('driver text'), { code }), URL);
    expect(explained).toBe(message);
    expect(explained).not.toContain('s3cret-pw');
  });

  test('a pool that got no connection in time', () => {
    expect(explainDatabaseError(Object.assign(new Error('Knex: Timeout acquiring a connection.'), { name: 'KnexTimeoutError' }), URL)).toBe(
      'no answer from MySQL at db.example.com:3307: is it running and reachable from here?',
    );
  });

  test('anything else keeps its own error', () => {
    expect(explainDatabaseError(Object.assign(new Error('syntax'), { code: 'ER_PARSE_ERROR' }), URL)).toBeUndefined();
    expect(explainDatabaseError(new Error('no code'), URL)).toBeUndefined();
    expect(explainDatabaseError('a string', URL)).toBeUndefined();
    expect(explainDatabaseError(Object.assign(new Error('locked'), { code: 'ECONNREFUSED' }), 'sqlite:data/origin.db')).toBeUndefined();
  });
});
