// Lint rules: typescript-eslint's recommended set with type information, kept strict on `any`,
// and the dependency rule between the top-level folders (eslint-role-boundaries.js).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import catalytic from './eslint-role-boundaries.js';

export default tseslint.config(
  { ignores: ['node_modules/', 'coverage/', 'compose/', 'k8s/', '.backups/', '.keys/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // Which folder may import which: see eslint-role-boundaries.js.
    plugins: { catalytic },
    rules: { 'catalytic/role-boundaries': ['error', { root: import.meta.dirname }] },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
  },
);
