/**
 * Leader election on a coordination.k8s.io Lease, as client-go's leaderelection does it: the
 * holder renews every retry period; a candidate takes the Lease once it has seen no renewal for
 * the lease duration (timed on its own clock from when it saw the record change, so clocks need
 * not agree); every write is guarded by resourceVersion, so two candidates never both win. A
 * leader that cannot renew within the renew deadline (shorter than the lease duration) stops
 * leading before anyone else may start; each Lease request is bounded by the retry period so
 * that a hung connection cannot stretch that. A graceful stop releases the Lease so a standby
 * takes over at once.
 */
import type { Logger } from 'pino';
import { jittered, sleep } from './loop/backoff.js';
import { errorSummary } from './loop/informer.js';
import { apiErrorStatus, type KubeConnection, microTime } from './loop/kube-connection.js';

/** A coordination.k8s.io/v1 Lease as JSON (times are RFC 3339 microsecond strings). */
interface Lease {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string; resourceVersion?: string };
  spec?: {
    holderIdentity?: string;
    leaseDurationSeconds?: number;
    acquireTime?: string;
    renewTime?: string;
    leaseTransitions?: number;
  };
}

/** The Lease calls leader election makes. */
class LeaseApi {
  constructor(
    private readonly conn: KubeConnection,
    private readonly namespace: string,
    private readonly name: string,
  ) {}
  private get collection(): string {
    return `/apis/coordination.k8s.io/v1/namespaces/${this.namespace}/leases`;
  }
  read(): Promise<Lease> {
    return this.conn.request('GET', `${this.collection}/${this.name}`, { priority: true });
  }
  create(spec: Lease['spec']): Promise<Lease> {
    return this.conn.request('POST', this.collection, {
      priority: true,
      body: {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { name: this.name, namespace: this.namespace },
        spec,
      },
    });
  }
  /** Replaces `lease` (guarded by its resourceVersion: 409 when someone wrote in between). */
  replace(lease: Lease, spec: Lease['spec']): Promise<Lease> {
    return this.conn.request('PUT', `${this.collection}/${this.name}`, {
      priority: true,
      body: { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', ...lease, spec },
    });
  }
}

export interface LeaderElectionOptions {
  connection: KubeConnection;
  namespace: string;
  name: string;
  identity: string;
  leaseDurationSeconds: number;
  renewDeadlineSeconds: number;
  retryPeriodSeconds: number;
  log: Logger;
}

export class LeaderElector {
  private readonly api: LeaseApi;
  private observed?: { resourceVersion: string; at: number; holder: string; durationMs: number };
  private leading = false;
  private lease?: Lease;

  constructor(private readonly opts: LeaderElectionOptions) {
    this.api = new LeaseApi(opts.connection, opts.namespace, opts.name);
  }

  get isLeader(): boolean {
    return this.leading;
  }

  /**
   * Waits until this replica holds the Lease (resolves true), or `signal` aborts (false).
   */
  async acquire(signal: AbortSignal): Promise<boolean> {
    const { log, retryPeriodSeconds } = this.opts;
    log.info({ lease: this.leaseRef() }, 'waiting for leadership');
    while (!signal.aborted) {
      if (await this.tryAcquireOrRenew()) {
        this.leading = true;
        log.info({ lease: this.leaseRef() }, 'became leader');
        return true;
      }
      // Wake just after the holder's lease would expire if that comes before the next retry.
      let wait = jittered(retryPeriodSeconds * 1000);
      if (this.observed?.holder) {
        const expiresIn = this.observed.at + this.observed.durationMs - Date.now();
        wait = Math.max(50, Math.min(wait, expiresIn + 50));
      }
      await sleep(wait, signal);
    }
    return false;
  }

  /**
   * Renews every retry period while leading; resolves when leadership is lost (no successful
   * renewal within the renew deadline, or someone else holds the Lease) or `signal` aborts.
   * Returns whether it was lost (true) rather than stopped (false).
   */
  async hold(signal: AbortSignal): Promise<boolean> {
    const { log, retryPeriodSeconds, renewDeadlineSeconds } = this.opts;
    let lastRenew = Date.now();
    while (!signal.aborted) {
      await sleep(retryPeriodSeconds * 1000, signal);
      if (signal.aborted) break;
      if (await this.tryAcquireOrRenew()) {
        lastRenew = Date.now();
        continue;
      }
      const otherHolder = this.observed?.holder && this.observed.holder !== this.opts.identity;
      if (otherHolder || Date.now() - lastRenew >= renewDeadlineSeconds * 1000) {
        this.leading = false;
        log.error({ lease: this.leaseRef(), holder: this.observed?.holder }, 'leadership lost');
        return true;
      }
    }
    return false;
  }

  /** Gives the Lease up (graceful stop): the next candidate takes it without waiting for expiry. */
  async release(): Promise<void> {
    if (!this.leading || !this.lease) return;
    this.leading = false;
    try {
      const now = microTime();
      await this.bounded(
        this.api.replace(this.lease, {
          ...this.lease.spec,
          holderIdentity: '',
          leaseDurationSeconds: 1,
          renewTime: now,
          acquireTime: now,
        }),
      );
      this.opts.log.info({ lease: this.leaseRef() }, 'leadership released');
    } catch (err) {
      this.opts.log.warn({ err: errorSummary(err) }, 'could not release the lease');
    }
  }

  /**
   * A Lease call that gives up after the retry period: a request hanging on a dead connection
   * must not keep a leader past its renew deadline (the request itself may finish later).
   */
  private bounded<T>(call: Promise<T>): Promise<T> {
    const ms = this.opts.retryPeriodSeconds * 1000;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`lease request took longer than ${ms} ms`)), ms);
    });
    call.catch(() => {}); // a late failure of a call given up on is of no interest
    return Promise.race([call, timeout]).finally(() => clearTimeout(timer));
  }

  private leaseRef(): string {
    return `${this.opts.namespace}/${this.opts.name}`;
  }

  private async tryAcquireOrRenew(): Promise<boolean> {
    const { identity, leaseDurationSeconds, log } = this.opts;
    const now = Date.now();
    let lease: Lease;
    try {
      lease = await this.bounded(this.api.read());
    } catch (err) {
      if (apiErrorStatus(err) !== 404) {
        log.warn({ err: errorSummary(err) }, 'could not read the lease');
        return false;
      }
      try {
        this.lease = await this.bounded(
          this.api.create({
            holderIdentity: identity,
            leaseDurationSeconds,
            acquireTime: microTime(now),
            renewTime: microTime(now),
            leaseTransitions: 0,
          }),
        );
        this.observe(this.lease, now);
        return true;
      } catch (createErr) {
        if (apiErrorStatus(createErr) !== 409) log.warn({ err: errorSummary(createErr) }, 'could not create the lease');
        return false;
      }
    }

    this.observe(lease, now);
    const spec = lease.spec ?? {};
    const holder = spec.holderIdentity ?? '';
    const observed = this.observed;
    if (holder && holder !== identity && observed && observed.at + observed.durationMs > now) return false;

    const mine = holder === identity;
    try {
      this.lease = await this.bounded(
        this.api.replace(lease, {
          ...spec,
          holderIdentity: identity,
          leaseDurationSeconds,
          renewTime: microTime(now),
          acquireTime: mine && spec.acquireTime ? spec.acquireTime : microTime(now),
          leaseTransitions: (spec.leaseTransitions ?? 0) + (mine ? 0 : 1),
        }),
      );
      this.observe(this.lease, now);
      if (!mine) log.info({ previous: holder || null }, 'took the lease');
      return true;
    } catch (err) {
      if (apiErrorStatus(err) !== 409) log.warn({ err: errorSummary(err) }, 'could not update the lease');
      return false;
    }
  }

  /** Remembers when (on our clock) the record last changed. */
  private observe(lease: Lease, now: number): void {
    const resourceVersion = lease.metadata?.resourceVersion ?? '';
    if (this.observed?.resourceVersion === resourceVersion) return;
    this.observed = {
      resourceVersion,
      at: now,
      holder: lease.spec?.holderIdentity ?? '',
      durationMs: (lease.spec?.leaseDurationSeconds ?? this.opts.leaseDurationSeconds) * 1000,
    };
  }
}
