/** Runs `join(i)` for i in [0, count) with a few at a time, as a crowd arriving; results in index order. */
export async function joinInParallel<T>(count: number, join: (i: number) => Promise<T>, concurrency = 4): Promise<T[]> {
  const out = new Array<T>(count);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, async () => {
    while (next < count) {
      const i = next++;
      out[i] = await join(i);
    }
  }));
  return out;
}
