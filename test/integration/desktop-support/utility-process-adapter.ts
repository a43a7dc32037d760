/**
 * Runs the embedded-server entry (src-main/electron/server-host/entry.ts, the exact
 * module Electron's utilityProcess runs) in a plain Node child process.
 *
 * Boundary stand-in: Electron's utilityProcess cannot be launched on this machine,
 * so this script emulates the one thing the entry uses from it, `process.parentPort`
 * (on('message', ({ data }) => …) and postMessage), over Node's fork IPC channel.
 * Everything behind that port (the server, TLS, the supervisor's messages) is real.
 */
import { pathToFileURL } from 'node:url';

interface EmulatedParentPort {
  on(event: 'message', listener: (event: { data: unknown }) => void): EmulatedParentPort;
  postMessage(message: unknown): void;
}

const port: EmulatedParentPort = {
  on(_event, listener) {
    process.on('message', (data) => listener({ data }));
    return port;
  },
  postMessage(message) {
    if (process.connected) process.send?.(message);
  },
};
(process as unknown as { parentPort: EmulatedParentPort }).parentPort = port;
// A utility process dies with its parent; a forked child would otherwise outlive a crashed test run.
process.on('disconnect', () => process.exit(0));

// The module under test: the TypeScript entry by default, or a built bundle (dist/electron/server-host.js) given as argv[2].
const entry = process.argv[2] ? pathToFileURL(process.argv[2]).href : '../../../src-main/electron/server-host/entry.js';
await import(entry);
