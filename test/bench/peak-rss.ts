// Loaded with `node --import` into a process a benchmark measures: at exit it writes the process's
// peak resident memory (getrusage's ru_maxrss, in KiB) and its CPU time (user + system, in
// microseconds) as JSON to the file named by PIPETRAIN_PEAK_RSS_FILE. Read from the kernel at the
// very end, so no peak between two samples is missed.
import { writeFileSync } from 'node:fs';

const target = process.env.PIPETRAIN_PEAK_RSS_FILE;
if (target) {
  process.on('exit', () => {
    const usage = process.resourceUsage();
    writeFileSync(target, `${JSON.stringify({ maxRssKiB: usage.maxRSS, cpuMicroseconds: usage.userCPUTime + usage.systemCPUTime })}\n`);
  });
}
