/**
 * Benchmarks. `npm run bench sfu [-- --publishers N --subscribers M --seconds S]`,
 * `npm run bench mixer [-- --attendees N --speakers K --seconds S]`,
 * `npm run bench compare [-- --quick] [--reps N] [--seconds S] [--only id,id] [--no-pin]` (Chorus vs Janus;
 * `-- --render bench/results/compare.json` redraws its markdown and chart from stored results).
 * `npm run bench constrained [-- --publishers N --rates 500kbit,1mbit,2mbit,5mbit --warmup S --seconds S --only chorus|janus]`
 * (viewers behind real rate-limited links, Chorus against Janus; needs root),
 * `npm run bench idle` (memory before anyone joins, against Janus), `npm run bench join [-- --joins N]`
 * (Chromium join to first frame), `npm run bench soak [-- --minutes M --size N]` (memory over time).
 * Each scenario starts its own server process so its CPU and memory can be read from /proc.
 */
// The AWS SDK's once-per-process notice about Node 20 (see vite.config.ts); its own switch, nothing else.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
import { renderStored, runCompare } from './compare/compare.js';
import { runConstrainedBench } from './constrained/constrained.js';
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
  case 'constrained': {
    const only = flags.get('only');
    await runConstrainedBench({
      publishers: num('publishers', 8),
      rates: (flags.get('rates') ?? '500kbit,1mbit,2mbit,5mbit').split(',').filter(Boolean),
      warmupS: num('warmup', 15),
      measureS: num('seconds', 30),
      servers: only === 'chorus' || only === 'janus' ? [only] : ['chorus', 'janus'],
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
    console.error(`unknown benchmark '${scenario}'; available: sfu, mixer, compare, constrained, idle, join, soak`);
    process.exit(2);
}
process.exit(0);
