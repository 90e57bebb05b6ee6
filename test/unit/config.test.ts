import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { autoDeliveryProcesses, ConfigError, loadConfig, publicUrls } from '../../src/config/load';

const configDir = path.resolve(__dirname, '..', '..', 'config');
const cwd = '/srv/origin';

describe('configuration', () => {
  test('defaults: ports 1935 and 8000, SQLite file and media folder in the working directory', () => {
    const config = loadConfig({ env: {}, configDir, cwd });
    expect(config.httpPort).toBe(8000);
    expect(config.rtmpPort).toBe(1935);
    expect(config.databaseUrl).toBe('sqlite:/srv/origin/data/origin.db');
    expect(config.mediaDir).toBe('/srv/origin/media');
    expect(config.ffmpegPath).toBe('ffmpeg');
    expect(config.adminToken).toBeUndefined();
    expect(config.transcode.ladder.map((rung) => rung.height)).toEqual([720, 480, 360]);
    expect(config.hls.segmentSeconds).toBe(2);
  });

  test('environment variables from architecture.md override the files', () => {
    const config = loadConfig({
      env: {
        HOST: '127.0.0.1',
        HTTP_PORT: '8080',
        RTMP_PORT: '1936',
        PUBLIC_URL: 'https://video.example.com/',
        DATABASE_URL: 'mysql://u:p@db:3306/origin',
        MEDIA_DIR: '/var/media',
        ADMIN_TOKEN: 'a-long-enough-admin-token',
        FFMPEG_PATH: '/opt/ffmpeg',
        LOG_LEVEL: 'debug',
      },
      configDir,
      cwd,
    });
    expect(config).toMatchObject({
      host: '127.0.0.1',
      httpPort: 8080,
      rtmpPort: 1936,
      publicUrl: 'https://video.example.com',
      databaseUrl: 'mysql://u:p@db:3306/origin',
      mediaDir: '/var/media',
      adminToken: 'a-long-enough-admin-token',
      ffmpegPath: '/opt/ffmpeg',
      logLevel: 'debug',
    });
  });

  test('NODE_ENV selects an extra file', () => {
    const config = loadConfig({ env: { NODE_ENV: 'test' }, configDir, cwd });
    expect(config.host).toBe('127.0.0.1');
  });

  test('bad values are refused with the variable named', () => {
    expect(() => loadConfig({ env: { HTTP_PORT: 'eighty' }, configDir, cwd })).toThrow(/HTTP_PORT must be a port number/);
    expect(() => loadConfig({ env: { HTTP_PORT: '70000' }, configDir, cwd })).toThrow(/httpPort \(HTTP_PORT\)/);
    expect(() => loadConfig({ env: { LOG_LEVEL: 'loud' }, configDir, cwd })).toThrow(ConfigError);
    expect(() => loadConfig({ env: { ADMIN_TOKEN: 'short' }, configDir, cwd })).toThrow(/at least 16/);
    expect(() => loadConfig({ env: { DATABASE_URL: 'postgres://x' }, configDir, cwd })).toThrow(/sqlite: or mysql/);
  });

  test('cluster settings from the environment: NODE_URL, CLUSTER_SECRET, RTMP_PROXY_PROTOCOL; a lease shorter than three heartbeats is refused', () => {
    const config = loadConfig({ env: { NODE_URL: 'http://10.0.0.11:8000', CLUSTER_SECRET: 'a-cluster-secret-of-24ch', RTMP_PROXY_PROTOCOL: 'true' }, configDir, cwd });
    expect(config).toMatchObject({ nodeUrl: 'http://10.0.0.11:8000', clusterSecret: 'a-cluster-secret-of-24ch', ingest: { proxyProtocol: true } });
    expect(loadConfig({ env: {}, configDir, cwd }).ingest.proxyProtocol).toBe(false);
    expect(() => loadConfig({ env: { RTMP_PROXY_PROTOCOL: 'yes' }, configDir, cwd })).toThrow(/RTMP_PROXY_PROTOCOL must be true or false/);
    expect(() => loadConfig({ env: { CLUSTER_SECRET: 'short' }, configDir, cwd })).toThrow(/CLUSTER_SECRET must be at least 16 characters/);
    expect(() => loadConfig({ env: { NODE_URL: 'not a url' }, configDir, cwd })).toThrow(/nodeUrl/);
    expect(() => loadConfig({ env: {}, configDir, cwd, overrides: { cluster: { heartbeatSeconds: 2, leaseSeconds: 5 } } })).toThrow(/at least three heartbeats/);
  });

  test('delivery processes: one per core beyond the first by default, at most three; a number or auto from HTTP_DELIVERY_PROCESSES', () => {
    expect([1, 2, 3, 4, 8, 64].map(autoDeliveryProcesses)).toEqual([0, 1, 2, 3, 3, 3]);
    expect(loadConfig({ env: {}, configDir, cwd }).http.deliveryProcesses).toBe(autoDeliveryProcesses(os.availableParallelism()));
    expect(loadConfig({ env: { HTTP_DELIVERY_PROCESSES: '0' }, configDir, cwd }).http.deliveryProcesses).toBe(0);
    expect(loadConfig({ env: { HTTP_DELIVERY_PROCESSES: '5' }, configDir, cwd }).http.deliveryProcesses).toBe(5);
    expect(loadConfig({ env: { NODE_ENV: 'test', HTTP_DELIVERY_PROCESSES: 'auto' }, configDir, cwd }).http.deliveryProcesses).toBe(
      autoDeliveryProcesses(os.availableParallelism()),
    );
    expect(() => loadConfig({ env: { HTTP_DELIVERY_PROCESSES: 'many' }, configDir, cwd })).toThrow(/HTTP_DELIVERY_PROCESSES must be a whole number or auto/);
    expect(() => loadConfig({ env: {}, configDir, cwd, overrides: { http: { deliveryProcesses: 'all' as 'auto' } } })).toThrow(ConfigError);
  });

  test('unknown keys in a config file are refused, so typos do not go unnoticed', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'origin-config-'));
    fs.copyFileSync(path.join(configDir, 'default.json'), path.join(dir, 'default.json'));
    fs.writeFileSync(path.join(dir, 'staging.json'), JSON.stringify({ hls: { segmentSecond: 4 } }));
    expect(() => loadConfig({ env: { NODE_ENV: 'staging' }, configDir: dir, cwd })).toThrow(/segmentSecond/);
    fs.rmSync(dir, { recursive: true });
  });

  test('public URLs follow the bound ports unless PUBLIC_URL is set', () => {
    const config = loadConfig({ env: {}, configDir, cwd });
    expect(publicUrls(config, { http: 8000, rtmp: 1935 })).toEqual({
      publicUrl: 'http://localhost:8000',
      rtmpPublicUrl: 'rtmp://localhost:1935/live',
    });
    const withPublic = loadConfig({ env: { PUBLIC_URL: 'https://tv.example.org' }, configDir, cwd });
    expect(publicUrls(withPublic, { http: 8000, rtmp: 1935 })).toEqual({
      publicUrl: 'https://tv.example.org',
      rtmpPublicUrl: 'rtmp://tv.example.org:1935/live',
    });
  });

  test('CORS origins: * by default; a list of exact origins otherwise', () => {
    expect(loadConfig({ env: {}, configDir, cwd }).http.corsOrigins).toEqual(['*']);
    const listed = loadConfig({ env: {}, configDir, cwd, overrides: { http: { corsOrigins: ['https://a.example', 'http://localhost:3000'] } } });
    expect(listed.http.corsOrigins).toEqual(['https://a.example', 'http://localhost:3000']);
    for (const bad of [[], ['https://a.example/'], ['https://a.example/path'], ['a.example'], ['ftp://a.example'], ['*', 'https://a.example']]) {
      expect(() => loadConfig({ env: {}, configDir, cwd, overrides: { http: { corsOrigins: bad } } })).toThrow(/http\.corsOrigins/);
    }
  });
});
