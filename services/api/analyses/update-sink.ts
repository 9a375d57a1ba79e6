/**
 * Where dispatcher updates land: each is written into its row (in arrival order per analysis,
 * retried while the database is unreachable) and then published to this replica's SSE streams.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Kysely } from 'kysely';
import type { Database } from '../../platform/db/schema.js';
import type { Logger } from '../../platform/logging.js';
import type { AnalysisListing, AnalysisUpdate } from '../dispatch/dispatcher.js';
import { applyUpdate, cancelMissingResources } from './repository.js';
import type { AnalysisUpdateBus } from './update-bus.js';
import { toAnalysisView } from './view.js';

export class AnalysisUpdateSink {
  /** The tail of each analysis' chain of pending writes. */
  readonly #chains = new Map<string, Promise<void>>();
  #stopped = false;
  #listings = 0;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly bus: AnalysisUpdateBus,
    private readonly log: Logger,
    private readonly graceMs = 60_000,
  ) {}

  /** Queues the update; never throws (failures are logged after retries). */
  accept = (update: AnalysisUpdate): void => {
    const id = update.analysisId;
    const previous = this.#chains.get(id) ?? Promise.resolve();
    const next = previous.then(() => this.#write(update));
    this.#chains.set(id, next);
    void next.finally(() => {
      if (this.#chains.get(id) === next) this.#chains.delete(id);
    });
  };

  /**
   * After a full list: unfinished rows whose resource is not in it are cancelled (their delete
   * happened while no replica watched). Rows younger than `graceMs` before the list began are
   * spared: the API writes a row before it creates its resource, and a create may take up to
   * the API server's request timeout (60 s by default).
   */
  acceptListing = (listing: AnalysisListing): void => {
    const createdBefore = new Date(listing.listStartedAt.getTime() - this.graceMs);
    const run = cancelMissingResources(this.db, { ...listing, createdBefore }).then(
      (rows) => {
        for (const row of rows) this.bus.publish(toAnalysisView(row));
        if (rows.length > 0) {
          this.log.info({ analyses: rows.map((r) => r.id) }, 'cancelled analyses whose VideoAnalysis is gone');
        }
      },
      // The next full list tries again.
      (err: unknown) => this.log.warn({ err }, 'could not check for analyses whose resource is gone'),
    );
    const key = `\0listing-${++this.#listings}`;
    this.#chains.set(key, run);
    void run.finally(() => {
      if (this.#chains.get(key) === run) this.#chains.delete(key);
    });
  };

  /** Resolves when every update accepted so far is written (shutdown, tests). */
  async drain(): Promise<void> {
    while (this.#chains.size > 0) await Promise.allSettled([...this.#chains.values()]);
  }

  stop(): void {
    this.#stopped = true;
  }

  async #write(update: AnalysisUpdate): Promise<void> {
    // ~1 minute of retries covers a database restart. An update dropped after that is repaired
    // when the source sends the state again (a Kubernetes relist, the final queue event), but a
    // dropped progress tick simply stays lost.
    for (let attempt = 1; attempt <= 12 && !this.#stopped; attempt++) {
      try {
        const row = await applyUpdate(this.db, update);
        if (row) this.bus.publish(toAnalysisView(row));
        return;
      } catch (err) {
        this.log.warn({ err, analysis: update.analysisId, attempt }, 'could not record analysis update; retrying');
        await sleep(Math.min(10_000, 250 * 2 ** (attempt - 1)));
      }
    }
    this.log.error({ analysis: update.analysisId, update }, 'analysis update dropped');
  }
}
