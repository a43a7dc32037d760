// Module resolve hook: `electron` resolves to the recording stand-in (fake-electron.mjs).
// Used only to run the built main process (dist/electron/main.js) in plain Node, because
// the Electron binary cannot be downloaded or launched on the build machines.
import { URL } from 'node:url';

export async function resolve(specifier, context, nextResolve) {
  if (specifier === 'electron') return { url: new URL('./fake-electron.mjs', import.meta.url).href, shortCircuit: true };
  return nextResolve(specifier, context);
}
