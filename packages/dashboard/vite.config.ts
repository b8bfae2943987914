import { defineConfig } from 'vite'

export default defineConfig({
  // Preact's automatic JSX runtime, without a Babel pass.
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // Everything the page needs comes from the gateway itself (its CSP allows only 'self'): no
    // inlined data: URLs for assets, no external requests.
    assetsInlineLimit: 0,
    target: 'es2022',
    sourcemap: false
  },
  server: {
    // `pnpm dev` next to a running gateway: the API and its cookie stay same-origin.
    proxy: Object.fromEntries(['/auth', '/mood', '/contact', '/twitch', '/twitter', '/events', '/docs'].map((p) => [p, 'http://127.0.0.1:3000']))
  }
})
