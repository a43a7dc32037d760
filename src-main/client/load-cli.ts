import { resolveTarget } from './app-join.js';
import { formatLoadReport, LOAD_USAGE, parseLoadArgs } from './load-args.js';
import { runLoad } from './load-run.js';

/** Entry point of `npm run load` (see LOAD_USAGE). */
async function main(): Promise<void> {
  let options: ReturnType<typeof parseLoadArgs>;
  try {
    options = parseLoadArgs(process.argv.slice(2));
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${LOAD_USAGE}`);
    process.exit(2);
  }
  if (options === 'help') {
    console.log(LOAD_USAGE);
    return;
  }
  const target = await resolveTarget(options.url, options.passcode);
  console.log(`Joining ${options.attendees} attendees to ${target.invite.meetingCode} on ${target.invite.serverUrl} (${options.video} with video, ${options.speakers} speaking)`);
  const report = await runLoad({
    target,
    attendees: options.attendees,
    video: options.video,
    speakers: options.speakers,
    receive: options.receive,
    seconds: options.seconds,
    videoPacketsPerSecond: options.videoPps,
    log: (line) => console.log(line),
  });
  console.log(formatLoadReport(report, options.seconds));
  process.exit(report.failedJoins.length > 0 || report.joined === 0 ? 1 : 0);
}

main().catch((error: unknown) => {
  console.error(`Load test failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
