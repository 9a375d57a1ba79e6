/**
 * `inline` dispatch, the embedded default of `nfc serve`: analyses run in worker threads of the
 * API process, `concurrency` at a time, the rest waiting in order. A thread is terminated to
 * cancel. Nothing is durable here: on start the server resubmits the analyses its database
 * still shows unfinished (server.ts).
 */
import { Worker } from 'node:worker_threads';
import type { AnalysisTask } from '../../platform/analysis-task.js';
import type { Logger } from '../../platform/logging.js';
import type { ObjectStorageConfig } from '../../platform/object-store/open-object-storage.js';
import type { InlineThreadInput, InlineThreadMessage } from '../../worker/inline-thread.js';
import type { AnalysisUpdate, Dispatcher } from './dispatcher.js';

export interface InlineDispatcherOptions {
  storage: ObjectStorageConfig;
  scratchDir: string;
  concurrency: number;
  /** Pose threads per analysis (default: the engine's). */
  workers?: number;
  log: Logger;
}

export class InlineDispatcher implements Dispatcher {
  readonly mode = 'inline' as const;
  readonly #waiting: AnalysisTask[] = [];
  readonly #running = new Map<string, Worker>();
  #onUpdate: (update: AnalysisUpdate) => void = () => undefined;
  #stopped = false;

  constructor(private readonly options: InlineDispatcherOptions) {}

  async start(onUpdate: (update: AnalysisUpdate) => void): Promise<void> {
    this.#onUpdate = onUpdate;
  }

  async submit(task: AnalysisTask): Promise<void> {
    if (this.#running.has(task.analysisId) || this.#waiting.some((t) => t.analysisId === task.analysisId)) return;
    this.#waiting.push(task);
    this.#pump();
  }

  async cancel(analysisId: string): Promise<void> {
    const index = this.#waiting.findIndex((t) => t.analysisId === analysisId);
    if (index >= 0) this.#waiting.splice(index, 1);
    const thread = this.#running.get(analysisId);
    if (thread) {
      this.#running.delete(analysisId);
      await thread.terminate();
      this.#pump();
    }
  }

  async ready(): Promise<void> {
    if (this.#stopped) throw new Error('the inline dispatcher is stopped');
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#waiting.length = 0;
    const threads = [...this.#running.values()];
    this.#running.clear();
    await Promise.all(threads.map((t) => t.terminate()));
  }

  /** Analyses waiting and running (for tests and logs). */
  get load(): { waiting: number; running: number } {
    return { waiting: this.#waiting.length, running: this.#running.size };
  }

  #pump(): void {
    while (!this.#stopped && this.#running.size < this.options.concurrency) {
      const task = this.#waiting.shift();
      if (!task) return;
      this.#run(task);
    }
  }

  #run(task: AnalysisTask): void {
    const id = task.analysisId;
    const log = this.options.log.child({ analysis: id });
    const input: InlineThreadInput = {
      task,
      storage: this.options.storage,
      scratchDir: this.options.scratchDir,
      logLevel: this.options.log.level,
      ...(this.options.workers !== undefined ? { workers: this.options.workers } : {}),
    };
    const thread = new Worker(new URL('../../worker/inline-thread.ts', import.meta.url), { workerData: input });
    this.#running.set(id, thread);
    let settled = false;
    const finish = (update: Omit<AnalysisUpdate, 'analysisId'>) => {
      if (settled) return;
      settled = true;
      if (this.#running.get(id) === thread) this.#running.delete(id);
      this.#onUpdate({ analysisId: id, finishedAt: new Date().toISOString(), ...update });
      void thread.terminate();
      this.#pump();
    };
    this.#onUpdate({ analysisId: id, status: 'running', attempts: 1, startedAt: new Date().toISOString() });
    log.info('analysis started');
    thread.on('message', (message: InlineThreadMessage) => {
      if (message.type === 'progress') this.#onUpdate({ analysisId: id, progress: message.progress });
      else if (message.type === 'done') {
        log.info({ reps: message.result.summary.reps }, 'analysis succeeded');
        finish({
          status: 'succeeded',
          summary: message.result.summary,
          results: message.result.results,
          message: String(message.result.summary.message ?? ''),
        });
      } else {
        finish({ status: 'failed', message: message.failure.message, errorCode: message.failure.code });
      }
    });
    thread.on('error', (err) => {
      log.error({ err }, 'analysis thread crashed');
      finish({ status: 'failed', message: `internal error: ${err.message}`, errorCode: 'INTERNAL' });
    });
    thread.on('exit', (code) => {
      // Terminated by cancel/stop: the API records the cancellation itself.
      if (!settled && this.#running.get(id) === thread) {
        finish({ status: 'failed', message: `the analysis thread exited (code ${code})`, errorCode: 'INTERNAL' });
      }
    });
  }
}
