import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// The dashboard, built into dist/web/ (served by the API process, src/http/web.ts).
// No plugin: Vite's own transformer handles TSX with React's automatic runtime.
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  logLevel: 'warn',
  build: {
    outDir: fileURLToPath(new URL('../dist/web', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    // No inline <script> or data: module preload polyfill: the CSP allows scripts from 'self' only.
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    reportCompressedSize: false,
    chunkSizeWarningLimit: 400,
  },
  oxc: { jsx: { runtime: 'automatic' } },
});
