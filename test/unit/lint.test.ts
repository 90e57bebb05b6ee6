import { execFile } from 'node:child_process';
import path from 'node:path';

// The linter and the formatter run with the suite (npm run lint does the same by hand).
const root = path.resolve(__dirname, '..', '..');

function run(bin: string, args: string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [path.join(root, 'node_modules', ...bin.split('/')), ...args], { cwd: root, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) =>
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, output: stdout + stderr }),
    );
  });
}

describe('code style', () => {
  test('ESLint finds nothing', async () => {
    expect(await run('eslint/bin/eslint.js', ['.', '--max-warnings', '0'])).toEqual({ code: 0, output: '' });
  }, 120_000);

  test('Prettier has nothing to change', async () => {
    const result = await run('prettier/bin/prettier.cjs', ['--check', '.', '--log-level', 'warn']);
    expect(result).toEqual({ code: 0, output: '' });
  }, 120_000);
});
