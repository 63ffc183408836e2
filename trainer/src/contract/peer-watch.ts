// How long a stage waits for a silent neighbour (trainer/src/stage/peer-watchdog.ts) before it
// exits 3 (PeerLost). In the contract because the operator's PeerLost grace
// (operator/policy/failure-policy.ts) must know when a dead node's neighbours give up on it.

/** Silence after which a neighbour counts as lost and the stage exits PeerLost (ms). */
export const PEER_TIMEOUT_MS = 10_000;
