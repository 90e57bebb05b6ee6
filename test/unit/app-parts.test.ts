import { Writable } from 'node:stream';
import { startParts, type Part } from '../../src/app/parts';
import { createLogger } from '../../src/observability/logger';

const lines: string[] = [];
const logger = createLogger({ level: 'error', format: 'json', destination: new Writable({ write: (chunk: Buffer, _e, done) => (lines.push(chunk.toString()), done()) }) });

function parts(log: string[], failing?: { start?: string; stop?: string }): Part[] {
  return ['database', 'listener', 'sessions'].map((name) => ({
    name,
    start: async () => {
      if (failing?.start === name) throw new Error(`${name} cannot start`);
      log.push(`start ${name}`);
    },
    stop: async () => {
      if (failing?.stop === name) throw new Error(`${name} cannot stop`);
      log.push(`stop ${name}`);
    },
  }));
}

describe("the origin's parts", () => {
  test('start in order, stop in reverse, once however often stop is called', async () => {
    const log: string[] = [];
    const stop = await startParts(parts(log), logger);
    await Promise.all([stop(), stop()]);
    expect(log).toEqual(['start database', 'start listener', 'start sessions', 'stop sessions', 'stop listener', 'stop database']);
  });

  test('a start that fails halfway stops what had started, and the failure is thrown', async () => {
    const log: string[] = [];
    await expect(startParts(parts(log, { start: 'sessions' }), logger)).rejects.toThrow('sessions cannot start');
    expect(log).toEqual(['start database', 'start listener', 'stop listener', 'stop database']);
  });

  test('a part that fails to stop is logged and the others still stop', async () => {
    const log: string[] = [];
    const stop = await startParts(parts(log, { stop: 'listener' }), logger);
    await stop();
    expect(log.slice(3)).toEqual(['stop sessions', 'stop database']);
    expect(lines.join('')).toContain('a part of the origin failed to stop');
  });
});
