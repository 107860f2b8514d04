// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';

/** Workspace packages are imported by name, never by a path into another package. */
const workspaceImports = {
  group: ['@pp/*/src/*', '../../packages/*', '../../services/*'],
  message: 'Import workspace packages by name.',
};

export default tseslint.config(
  { ignores: ['**/node_modules/**', '.tools/**', '.data/**', 'packages/persona-sim/openapi/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/only-throw-error': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': [
        'error',
        { considerDefaultExhaustiveForUnions: true },
      ],
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      'no-restricted-imports': ['error', { patterns: [workspaceImports] }],
    },
  },
  {
    // Domain code stays free of transport and queue libraries (and keeps the rule above).
    files: ['services/*/src/domain/**/*.ts', 'packages/shared/src/**/domain/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { paths: ['express', 'bullmq'], patterns: [workspaceImports] },
      ],
    },
  },
  {
    // expect.any() and friends are typed `any` by design.
    files: ['**/*.test.ts', 'test/**/*.ts'],
    rules: { '@typescript-eslint/no-unsafe-assignment': 'off' },
  },
  {
    // Examples show the shape of real code: an async processor with the work elided.
    files: ['examples/**/*.ts'],
    rules: { '@typescript-eslint/require-await': 'off' },
  },
  { files: ['eslint.config.js'], ...tseslint.configs.disableTypeChecked },
  prettier,
);
