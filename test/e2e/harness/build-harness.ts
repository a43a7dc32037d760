import { build, type Plugin } from 'esbuild';
import { fileURLToPath } from 'node:url';

/**
 * amazon-chime-sdk-js's CommonJS build also pulls in AWS SDK clients (for Chime
 * messaging) whose Node transport imports node:* modules. Meetings never use
 * them, so in the browser those imports resolve to an empty module.
 */
const emptyNodeBuiltins: Plugin = {
  name: 'empty-node-builtins',
  setup(b) {
    b.onResolve({ filter: /^node:/ }, (args) => ({ path: args.path, namespace: 'empty-node' }));
    b.onLoad({ filter: /.*/, namespace: 'empty-node' }, () => ({ contents: 'module.exports = {};', loader: 'js' }));
  },
};

/** Bundles the harness page script; returns the JavaScript source. */
export async function buildHarness(): Promise<string> {
  const result = await build({
    entryPoints: [fileURLToPath(new URL('./harness.ts', import.meta.url))],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'chrome120',
    write: false,
    logLevel: 'silent',
    plugins: [emptyNodeBuiltins],
    define: { 'process.env.NODE_ENV': '"production"', global: 'globalThis' },
  });
  return result.outputFiles[0]!.text;
}
