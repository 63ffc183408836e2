// Leader election through a coordination.k8s.io/v1 Lease, after client-go's leaderelection:
// 15 s lease, 10 s renew deadline, 2 s retry. Only the leader runs reconciles; a candidate takes
// over once the holder has not renewed for a lease duration. Expiry is judged by the candidate's
// own clock (when it last saw the record change), not by the holder's renewTime, so clock skew
// between replicas does not matter.
import type * as k8s from '@kubernetes/client-node';
import { realClock, type Clock } from './clock.ts';
import { isConflict, isNotFound } from './k8s-errors.ts';

/** The Lease calls the elector needs (CoordinationV1Api in production, a fake in tests). */
export interface LeaseClient {
  get(): Promise<k8s.V1Lease | undefined>;
  create(lease: k8s.V1Lease): Promise<k8s.V1Lease>;
  replace(lease: k8s.V1Lease): Promise<k8s.V1Lease>;
}

export interface LeaderElectionOptions {
  client: LeaseClient;
  identity: string;
  name: string;
  namespace: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  clock?: Clock;
  onStartedLeading(): void;
  onStoppedLeading(): void;
  log?(message: string, fields?: Record<string, unknown>): void;
}

export class LeaderElector {
  private leading = false;
  private stopped = false;
  private timer: unknown;
  /** Last record seen and when (our clock) it changed. */
  private observed?: { holder: string; renewTime: string; at: number };
  private lastRenewed = 0;
  private readonly clock: Clock;
  private readonly leaseDurationMs: number;
  private readonly renewDeadlineMs: number;
  private readonly retryPeriodMs: number;

  private readonly options: LeaderElectionOptions;

  constructor(options: LeaderElectionOptions) {
    this.options = options;
    this.clock = options.clock ?? realClock;
    this.leaseDurationMs = options.leaseDurationMs ?? 15_000;
    this.renewDeadlineMs = options.renewDeadlineMs ?? 10_000;
    this.retryPeriodMs = options.retryPeriodMs ?? 2_000;
  }

  isLeader(): boolean {
    return this.leading;
  }

  start(): void {
    this.stopped = false;
    void this.tick();
  }

  /** Stops campaigning; a leader gives the lease up so another replica takes over at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.clock.clearTimeout(this.timer);
    if (!this.leading) return;
    this.setLeading(false);
    try {
      const lease = await this.options.client.get();
      if (lease?.spec?.holderIdentity === this.options.identity) {
        await this.options.client.replace({ ...lease, spec: { ...lease.spec, holderIdentity: undefined, leaseDurationSeconds: 1 } });
      }
    } catch (error) {
      this.options.log?.('Failed to release Lease', { error: String(error) });
    }
  }

  /** One attempt to acquire or renew; exported for tests through `tick`. */
  async tick(): Promise<void> {
    if (this.stopped) return;
    let ok = false;
    try {
      ok = await this.tryAcquireOrRenew();
    } catch (error) {
      this.options.log?.('Failed to acquire or renew Lease', { error: String(error) });
    }
    if (this.stopped) return;
    const now = this.clock.now();
    if (ok) {
      this.lastRenewed = now;
      if (!this.leading) this.setLeading(true);
    } else if (this.leading && now - this.lastRenewed >= this.renewDeadlineMs) {
      this.setLeading(false);
    }
    this.timer = this.clock.setTimeout(() => void this.tick(), this.retryPeriodMs);
  }

  private setLeading(leading: boolean): void {
    this.leading = leading;
    this.options.log?.(leading ? 'Became leader' : 'Lost leadership', { identity: this.options.identity, lease: `${this.options.namespace}/${this.options.name}` });
    if (leading) this.options.onStartedLeading();
    else this.options.onStoppedLeading();
  }

  private async tryAcquireOrRenew(): Promise<boolean> {
    const { client, identity, name, namespace } = this.options;
    const now = this.clock.now();
    const nowIso = microTime(now);
    const durationSeconds = Math.round(this.leaseDurationMs / 1000);
    let lease: k8s.V1Lease | undefined;
    try {
      lease = await client.get();
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
    if (!lease) {
      try {
        await client.create({
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: { name, namespace },
          spec: { holderIdentity: identity, leaseDurationSeconds: durationSeconds, acquireTime: nowIso as unknown as Date, renewTime: nowIso as unknown as Date, leaseTransitions: 0 },
        });
        return true;
      } catch (error) {
        if (isConflict(error)) return false;
        throw error;
      }
    }
    const spec = lease.spec ?? {};
    const holder = spec.holderIdentity ?? '';
    const renewTime = String(spec.renewTime ?? '');
    if (!this.observed || this.observed.holder !== holder || this.observed.renewTime !== renewTime) {
      this.observed = { holder, renewTime, at: now };
    }
    const heldByOther = holder !== '' && holder !== identity;
    const recordDurationMs = (spec.leaseDurationSeconds ?? durationSeconds) * 1000;
    if (heldByOther && this.observed.at + recordDurationMs > now) return false;
    const transitions = (spec.leaseTransitions ?? 0) + (holder === identity ? 0 : 1);
    try {
      await client.replace({
        ...lease,
        spec: {
          ...spec,
          holderIdentity: identity,
          leaseDurationSeconds: durationSeconds,
          acquireTime: (holder === identity && spec.acquireTime ? asMicroTime(spec.acquireTime) : nowIso) as unknown as Date,
          renewTime: nowIso as unknown as Date,
          leaseTransitions: transitions,
        },
      });
      return true;
    } catch (error) {
      if (isConflict(error)) return false; // someone else wrote it first
      throw error;
    }
  }
}

/** A Kubernetes MicroTime: RFC 3339 with exactly six fractional digits (the API server rejects three). */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

/** The client may hand MicroTimes back as Date objects, which would serialise with three digits. */
function asMicroTime(value: Date | string): string {
  return value instanceof Date ? microTime(value.getTime()) : value;
}
