// ESLint for the TypeScript of the origin, the player, the console, the scripts and the tests:
// the recommended rules of ESLint and typescript-eslint (no type-aware rules: the strict compiler
// already checks types, and type-aware linting would double the time of CI's run).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'test-artifacts/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      // Test helpers and the console read JSON whose shape the tests or the API define.
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      // `import x = require()` is how the NMS adapter loads node-media-server's CommonJS modules.
      '@typescript-eslint/no-require-imports': 'off',
      // Collaborators declared before the closures that read them and set once they exist.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
    },
  },
  {
    files: ['**/*.mjs', '**/*.js'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', __dirname: 'readonly', module: 'writable', require: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
