import js from '@eslint/js'
import globals from 'globals'
import tseslint from 'typescript-eslint'

export default tseslint.config(
  { ignores: ['**/dist/**', '**/coverage/**', '**/.tap/**', '**/node_modules/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: globals.node
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': ['error', { allow: ['error', 'warn'] }]
    }
  },
  {
    // Migrations are frozen in time and typed loosely on purpose (Kysely's own recommendation).
    files: ['**/migrations/**', '**/outbox/migrations.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' }
  },
  {
    // The dashboard runs in the browser.
    files: ['packages/dashboard/src/**'],
    languageOptions: { globals: globals.browser }
  },
  {
    files: ['scripts/**', '.ci/**', 'bench/**', '**/test/**'],
    rules: { 'no-console': 'off' }
  }
)
