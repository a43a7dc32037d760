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
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // The AWS SDK (a test and benchmark tool here) warns once per process on Node 20 that its
    // releases from 2027 need Node 22; the README states the Node versions we support. The
    // SDK's own switch turns off that one warning and no other.
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    projects: [
      { extends: true, test: { name: 'node', include: ['test/unit/**/*.test.{ts,tsx}', 'test/integration/**/*.test.ts'], sequence: { groupOrder: 0 } } },
      // Browser suites run after the Node ones, one file at a time: each drives up to four
      // Chromium instances with live video, which is all a 2-core machine can give them.
      { extends: true, test: { name: 'browser', include: ['test/e2e/**/*.test.ts'], setupFiles: ['test/e2e/harness/server-priority.ts'], sequence: { groupOrder: 1 }, fileParallelism: false } },
    ],
  },
});
