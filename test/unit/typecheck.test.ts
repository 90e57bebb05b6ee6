import { execFile } from 'node:child_process';
import path from 'node:path';

// Jest only transpiles; this is where strict type errors fail the suite.
const root = path.resolve(__dirname, '..', '..');
const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');

function typecheck(project: string): Promise<string> {
  return new Promise((resolve) => {
    execFile(process.execPath, [tsc, '-p', project, '--noEmit'], { cwd: root }, (_error, stdout, stderr) => resolve(stdout + stderr));
  });
}

describe('TypeScript (strict)', () => {
  test.each(['tsconfig.json', 'player/tsconfig.json', 'console/tsconfig.json'])(
    '%s has no type errors',
    async (project) => {
      expect(await typecheck(project)).toBe('');
    },
    120_000,
  );
});
