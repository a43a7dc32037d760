import { setPriority } from 'node:os';

/**
 * Setup file of the browser suites. One 2-core machine plays the meeting server and up to five
 * people's computers, each encoding a camera and decoding the others; the server, which in a real
 * meeting never shares a CPU with its participants' video codecs, then waits behind them: in a
 * loaded run of the four-person app test its 20 ms media clock ran 1.5-3.1 s late and a stopped
 * screen share reached the others only after the test gave up. Running as root, Chromium also
 * raises its own UI and display threads to niceness -8 (as it does for a user who may), which
 * put them above the server. So the test process (the server under test runs in it, and servers
 * it spawns inherit its priority) runs at niceness -10, and Chromium is started at 0
 * (harness/chromium-at-normal-priority.sh), level with any other load on the machine. Raising
 * priority needs root (CI runs as root); elsewhere nothing changes.
 */
try {
  setPriority(-10);
} catch {
  // Not root: every process keeps the niceness it had.
}
