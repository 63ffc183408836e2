// Exit codes of a stage process (docs/operations.md). The local supervisor and the operator both
// decide restarts from them.
export const StageExit = {
  Succeeded: 0,
  /** Unexpected error; retrying may help. */
  Failed: 1,
  /** The job itself is wrong (bad data file, shape mismatch): retrying cannot help. */
  InvalidJob: 2,
  /** A neighbour's link broke or went silent, it sent a frame the protocol refuses, or not the one due in time. */
  PeerLost: 3,
  /** Stopped by SIGTERM / SIGINT. */
  Terminated: 143,
} as const;
