/**
 * Retries an assertion block until it passes or the deadline expires, then
 * rethrows the last failure. Media over real sockets takes a variable time to
 * settle on a loaded 2-core machine; a fixed sleep would make tests flaky
 * while this still fails whenever the condition never becomes true.
 */
export async function eventually<T>(check: () => T | Promise<T>, timeoutMs = 10_000, intervalMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() >= deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  }
}
