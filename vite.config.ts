import react from '@vitejs/plugin-react';
import type { Plugin } from 'vite';
import { defineConfig } from 'vitest/config';

/**
 * amazon-chime-sdk-js's CommonJS build also pulls in AWS SDK clients (for Chime
 * messaging) whose Node transport imports node:* modules. Meetings never use
 * them, so in the browser those imports resolve to an empty module.
 */
const emptyNodeBuiltins: Plugin = {
  name: 'chorus-empty-node-builtins',
  enforce: 'pre',
  resolveId(source) {
    return source.startsWith('node:') ? `\0empty:${source}` : undefined;
  },
  load(id) {
    return id.startsWith('\0empty:') ? 'export default {};' : undefined;
  },
};

// One config for the renderer build (root: src-renderer) and for Vitest (root: the repo).
export default defineConfig({
  root: 'src-renderer',
  // Absolute asset paths: the server also serves index.html at /join/<code>, and the desktop at app://chorus/.
  base: '/',
  plugins: [emptyNodeBuiltins, react()],
  define: { global: 'globalThis' },
  build: {
    outDir: '../dist/renderer',
    emptyOutDir: true,
    chunkSizeWarningLimit: 1500,
  },
  test: {
    root: '.',
    include: ['test/**/*.test.ts', 'test/**/*.test.tsx'],
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
