/**
 * Throttled progress: the engine reports every frame, the API server should hear about it
 * at most once per interval and only when something changed. One patch is in flight at a time;
 * the newest value waiting when the interval ends is the one sent. A failed patch is reported to
 * `onError` and never stops the analysis.
 */
export interface Progress {
  framesDone: number;
  framesTotal: number;
}

export interface ProgressReporterOptions {
  intervalMs: number;
  send: (progress: Progress) => Promise<void>;
  onError: (error: unknown) => void;
  now?: () => number;
}

const same = (a: Progress | undefined, b: Progress | undefined) =>
  a !== undefined && b !== undefined && a.framesDone === b.framesDone && a.framesTotal === b.framesTotal;

export class ProgressReporter {
  readonly #opts: ProgressReporterOptions;
  readonly #now: () => number;
  #latest: Progress | undefined;
  #sent: Progress | undefined;
  #sentAt = Number.NEGATIVE_INFINITY;
  #inFlight: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(opts: ProgressReporterOptions) {
    this.#opts = opts;
    this.#now = opts.now ?? Date.now;
  }

  /** The newest progress seen, sent or not. */
  get latest(): Progress | undefined {
    return this.#latest;
  }

  update(progress: Progress): void {
    if (this.#closed) return;
    this.#latest = { framesDone: progress.framesDone, framesTotal: progress.framesTotal };
    this.#schedule();
  }

  /** Stops sending; waits for a patch in flight. The caller sends the final value with its own status patch. */
  async close(): Promise<Progress | undefined> {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#inFlight;
    return this.#latest;
  }

  #schedule(): void {
    if (this.#closed || this.#inFlight || this.#timer || same(this.#latest, this.#sent)) return;
    const wait = this.#sentAt + this.#opts.intervalMs - this.#now();
    if (wait <= 0) this.#sendLatest();
    else this.#timer = setTimeout(() => this.#sendLatest(), wait);
  }

  #sendLatest(): void {
    this.#timer = undefined;
    const progress = this.#latest;
    if (this.#closed || !progress || same(progress, this.#sent)) return;
    this.#sentAt = this.#now();
    this.#inFlight = this.#opts
      .send(progress)
      .then(
        () => {
          this.#sent = progress;
        },
        (err: unknown) => this.#opts.onError(err),
      )
      .finally(() => {
        this.#inFlight = undefined;
        this.#schedule();
      });
  }
}
