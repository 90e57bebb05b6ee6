import path from 'node:path';

export type DatabaseTarget = { client: 'sqlite'; filename: string } | { client: 'mysql'; host: string; port: number; user: string; password: string; database: string };

/**
 * `sqlite:<path>` (relative to the working directory, or absolute with `sqlite:///abs/path`)
 * or `mysql://user:pass@host:3306/db`.
 */
export function parseDatabaseUrl(url: string): DatabaseTarget {
  if (url.startsWith('sqlite:')) {
    const rest = url.slice('sqlite:'.length);
    const filename = rest.startsWith('//') ? rest.slice(2) : rest;
    if (!filename) throw new Error('DATABASE_URL: sqlite: needs a file path, e.g. sqlite:data/origin.db');
    return { client: 'sqlite', filename };
  }
  if (url.startsWith('mysql://') || url.startsWith('mysql2://')) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new Error('DATABASE_URL is not a valid mysql:// URL');
    }
    const database = decodeURIComponent(parsed.pathname.replace(/^\//, ''));
    if (!database) throw new Error('DATABASE_URL: the mysql URL needs a database name, e.g. mysql://user:pass@host:3306/origin');
    return {
      client: 'mysql',
      host: parsed.hostname,
      port: parsed.port ? Number(parsed.port) : 3306,
      user: decodeURIComponent(parsed.username),
      password: decodeURIComponent(parsed.password),
      database,
    };
  }
  throw new Error('DATABASE_URL must start with sqlite: or mysql://');
}

/** Makes a relative SQLite path absolute so that the server does not depend on where it is started later. */
export function resolveDatabaseUrl(url: string, cwd: string): string {
  const target = parseDatabaseUrl(url);
  if (target.client !== 'sqlite') return url;
  return `sqlite:${path.resolve(cwd, target.filename)}`;
}

/** For log lines: the database kind and location without credentials. */
export function describeDatabase(url: string): string {
  const target = parseDatabaseUrl(url);
  return target.client === 'sqlite' ? `sqlite ${target.filename}` : `mysql ${target.host}:${target.port}/${target.database}`;
}
