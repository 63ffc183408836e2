// The newest committed checkpoint, as every stage reports it (GET /status, pipetrain_checkpoint_last_*).
// Only the stage whose write completes a step writes its commit record, so a stage cannot learn of a
// commit from its own writes: it reads the newest record on the checkpoint volume instead, at start
// (a restarted stage already knows the checkpoint it resumes from), after each of its writes, and
// every `intervalMs`. Step and time come from one record, so they always belong to the same commit.
import { latestCommit } from '../checkpoint/index.ts';

export interface CommittedCheckpoint {
  step: number;
  /** The commit record's committedAt, ISO 8601. */
  committedAt: string;
}

export interface CommitWatch {
  /** The newest commit seen so far; undefined before the first. */
  latest(): CommittedCheckpoint | undefined;
  /** Reads the newest commit record now (a missing or unreadable folder changes nothing). */
  refresh(): Promise<void>;
  stop(): void;
}

export function watchCommits(dir: string, options: { intervalMs: number; onCommit(commit: CommittedCheckpoint): void }): CommitWatch {
  let latest: CommittedCheckpoint | undefined;
  const refresh = async () => {
    const found = await latestCommit(dir).catch(() => undefined);
    // Never backwards: retention may delete old steps, and a read may race a rename.
    if (!found || (latest && found.step <= latest.step)) return;
    latest = found;
    options.onCommit(found);
  };
  const timer = setInterval(() => void refresh(), options.intervalMs);
  timer.unref();
  void refresh();
  return { latest: () => latest, refresh, stop: () => clearInterval(timer) };
}
