/**
 * Benchmarks. `npm run bench sfu [-- --publishers N --subscribers M --seconds S]`,
 * `npm run bench mixer [-- --attendees N --speakers K --seconds S]`,
 * `npm run bench compare [-- --quick] [--reps N] [--seconds S] [--only id,id] [--no-pin]` (Chorus vs Janus;
 * `-- --render bench/results/compare.json` redraws its markdown and chart from stored results).
 * `npm run bench idle` (memory before anyone joins, against Janus), `npm run bench join [-- --joins N]`
 * (Chromium join to first frame), `npm run bench soak [-- --minutes M --size N]` (memory over time).
 * Each scenario starts its own server process so its CPU and memory can be read from /proc.
 */
// The AWS SDK's once-per-process notice about Node 20 (see vite.config.ts); its own switch, nothing else.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
import { renderStored, runCompare } from './compare/compare.js';
import { runIdleBench } from './idle.js';
import { runJoinBench } from './join.js';
import { runMixerBench } from './mixer.js';
import { runSfuBench } from './sfu.js';
import { runSoakBench } from './soak.js';

const [scenario = 'sfu', ...rest] = process.argv.slice(2);
const flags = new Map<string, string>();
const switches = new Set(['quick', 'no-pin']);
for (let i = 0; i < rest.length; i++) {
  const key = rest[i]!;
  if (key.startsWith('--') && switches.has(key.slice(2))) flags.set(key.slice(2), 'true');
  else if (key.startsWith('--') && rest[i + 1] !== undefined) flags.set(key.slice(2), rest[++i]!);
}
const num = (name: string, fallback: number): number => Number(flags.get(name) ?? fallback);

switch (scenario) {
  case 'sfu':
    await runSfuBench({
      publishers: num('publishers', 4),
      subscribers: num('subscribers', 4),
      seconds: num('seconds', 10),
      packetsPerSecond: num('pps', 100),
    });
    break;
  case 'mixer':
    await runMixerBench({
      attendees: num('attendees', 50),
      speakers: num('speakers', 4),
      seconds: num('seconds', 15),
      sampledListeners: num('sampled', 4),
    });
    break;
  case 'compare': {
    if (flags.has('render')) {
      await renderStored(flags.get('render')!);
      break;
    }
    const quick = flags.has('quick');
    await runCompare({
      quick,
      repetitions: num('reps', quick ? 1 : 3),
      seconds: num('seconds', quick ? 5 : 8),
      only: flags.get('only')?.split(',').filter(Boolean) ?? [],
      pin: !flags.has('no-pin'),
      outDir: 'bench/results',
    });
    break;
  }
  case 'idle':
    await runIdleBench();
    break;
  case 'join':
    await runJoinBench({ joins: num('joins', 20) });
    break;
  case 'soak':
    await runSoakBench({ minutes: num('minutes', 10), size: num('size', 16) });
    break;
  default:
    console.error(`unknown benchmark '${scenario}'; available: sfu, mixer, compare, idle, join, soak`);
    process.exit(2);
}
process.exit(0);
