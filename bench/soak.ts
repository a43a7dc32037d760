import { chorusSide } from './compare/chorus-side.js';
import { prepareLoad } from './compare/driver.js';
import type { Scenario } from './compare/scenarios.js';
import { loadVp8Clip } from './load/vp8-clip.js';
import { cpuSeconds, memoryBreakdown } from './proc-stats.js';

/**
 * `npm run bench soak [-- --minutes 10 --size 16]`: a size x size video meeting (real VP8)
 * held for minutes, the server's memory sampled every 30 s. Memory must stay
 * flat: RSS at the end within 10 % of what it was at minute 2.
 */
export async function runSoakBench(options: { minutes: number; size: number }): Promise<void> {
  const scenario: Scenario = { kind: 'video', id: `video-${options.size}x${options.size}`, publishers: options.size, subscribers: options.size };
  const clip = await loadVp8Clip();
  const side = chorusSide(undefined);
  const server = await side.start();
  const { load, accounting } = await prepareLoad(scenario, clip);
  const joined = await side.join(server, scenario, load);
  const samples: { minute: number; rss: number; anonymous: number; cpu: number; videoPktPerSec: number }[] = [];
  try {
    const started = performance.now();
    let lastCpu = await cpuSeconds(server.pid);
    let lastVideo = accounting.videoPackets;
    let lastAt = started;
    const end = started + options.minutes * 60_000;
    while (performance.now() < end) {
      await new Promise((r) => setTimeout(r, Math.min(30_000, end - performance.now())));
      const now = performance.now();
      const mem = await memoryBreakdown(server.pid);
      const cpu = await cpuSeconds(server.pid);
      const seconds = (now - lastAt) / 1000;
      samples.push({ minute: +((now - started) / 60_000).toFixed(1), rss: +mem.rss.toFixed(1), anonymous: +mem.anonymous.toFixed(1), cpu: +((cpu - lastCpu) / seconds).toFixed(3), videoPktPerSec: Math.round((accounting.videoPackets - lastVideo) / seconds) });
      console.log(`${samples.at(-1)!.minute} min: RSS ${mem.rss.toFixed(1)} MiB (anonymous ${mem.anonymous.toFixed(1)}), CPU ${samples.at(-1)!.cpu}, ${samples.at(-1)!.videoPktPerSec} video pkt/s received`);
      [lastCpu, lastVideo, lastAt] = [cpu, accounting.videoPackets, now];
    }
  } finally {
    await joined.close();
    await server.stop();
  }
  const atTwo = samples.find((s) => s.minute >= 2) ?? samples[0]!;
  const last = samples.at(-1)!;
  const growth = (100 * (last.rss - atTwo.rss)) / atTwo.rss;
  console.table(samples);
  console.log(`RSS at minute ${atTwo.minute}: ${atTwo.rss} MiB; at the end (${last.minute} min): ${last.rss} MiB: ${growth >= 0 ? '+' : ''}${growth.toFixed(1)} % (budget: within 10 %) -> ${Math.abs(growth) <= 10 ? 'flat' : 'NOT flat'}`);
}
