/**
 * Benchmarks. `npm run bench sfu [-- --publishers N --subscribers M --seconds S]`,
 * `npm run bench mixer [-- --attendees N --speakers K --seconds S]`.
 * Each scenario starts its own server process so its CPU and memory can be read from /proc.
 */
import { runMixerBench } from './mixer.js';
import { runSfuBench } from './sfu.js';

const [scenario = 'sfu', ...rest] = process.argv.slice(2);
const flags = new Map<string, string>();
for (let i = 0; i < rest.length; i++) {
  const key = rest[i]!;
  if (key.startsWith('--') && rest[i + 1] !== undefined) flags.set(key.slice(2), rest[++i]!);
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
  default:
    console.error(`unknown benchmark '${scenario}'; available: sfu, mixer`);
    process.exit(2);
}
process.exit(0);
