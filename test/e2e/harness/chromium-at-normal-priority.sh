#!/bin/sh
# Starts Chromium at niceness 0 whatever the niceness of the test process that launches it:
# the browser suites raise their own process (the server under test, and servers it spawns)
# above the browsers; see test/e2e/harness/server-priority.ts.
exec nice -n "$((0 - $(nice)))" "${CHROMIUM_PATH:?set by test/e2e/harness/browser.ts}" "$@"
