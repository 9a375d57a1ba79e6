/**
 * A small client of the NutriFitCoach API for `nfc submit`: sign in, upload, start an analysis,
 * follow its events, fetch the report. Errors carry the API's error code.
 */
import { openAsBlob } from 'node:fs';
import { basename } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export class ApiClientError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiClientError';
  }
}

export interface AnalysisState {
  id: string;
  status: string;
  progress: { framesDone: number; framesTotal: number; percent: number } | null;
  summary: { exercise: string; reps: number; score: number | null; message?: string } | null;
  message: string | null;
  errorCode: string | null;
}

export class ApiClient {
  #token: string | undefined;

  constructor(readonly baseUrl: string) {}

  /** Waits until /healthz answers (a server started a moment ago), up to `timeoutMs`. */
  async waitUntilUp(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        const res = await fetch(`${this.baseUrl}/healthz`);
        if (res.ok) return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new ApiClientError(0, 'UNREACHABLE', `no API answers at ${this.baseUrl}`);
      await sleep(250);
    }
  }

  /** Logs in; registers the account first when it does not exist yet. */
  async signIn(email: string, password: string): Promise<void> {
    try {
      await this.#login(email, password);
    } catch (err) {
      if (!(err instanceof ApiClientError) || err.code !== 'INVALID_CREDENTIALS') throw err;
      await this.#json('POST', '/v1/auth/register', { email, password }).catch((e: unknown) => {
        // Registered but the password differs: the login error is the one to show.
        throw e instanceof ApiClientError && e.code === 'EMAIL_TAKEN' ? err : e;
      });
      await this.#login(email, password);
    }
  }

  async upload(file: string): Promise<{ id: string; bytes: number }> {
    const form = new FormData();
    // A file-backed Blob: the video is streamed from disk, not read into memory.
    form.append('file', await openAsBlob(file), basename(file));
    const res = await fetch(`${this.baseUrl}/v1/uploads`, { method: 'POST', headers: this.#headers(), body: form });
    return (await this.#read(res)) as { id: string; bytes: number };
  }

  async createAnalysis(uploadId: string, exercise: string, fps: number): Promise<AnalysisState> {
    return (await this.#json('POST', '/v1/analyses', { uploadId, exercise, fps })) as AnalysisState;
  }

  async report(id: string): Promise<Record<string, unknown>> {
    return (await this.#json('GET', `/v1/analyses/${id}/report`)) as Record<string, unknown>;
  }

  async artifacts(id: string): Promise<{ report: string; framesCsv: string; thumbnails: string[] }> {
    return (await this.#json('GET', `/v1/analyses/${id}/artifacts`)) as {
      report: string;
      framesCsv: string;
      thumbnails: string[];
    };
  }

  /** Follows /events until the analysis finishes; calls `onState` with each state. */
  async follow(id: string, onState: (state: AnalysisState) => void): Promise<AnalysisState> {
    const res = await fetch(`${this.baseUrl}/v1/analyses/${id}/events`, {
      headers: { ...this.#headers(), accept: 'text/event-stream' },
    });
    if (!res.ok || !res.body) await this.#read(res);
    let last: AnalysisState | undefined;
    let buffer = '';
    const decoder = new TextDecoder();
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      let end = buffer.indexOf('\n\n');
      while (end >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const data = block
          .split('\n')
          .filter((l) => l.startsWith('data: '))
          .map((l) => l.slice(6))
          .join('\n');
        if (data) {
          last = JSON.parse(data) as AnalysisState;
          onState(last);
        }
        end = buffer.indexOf('\n\n');
      }
    }
    if (!last) throw new ApiClientError(0, 'NO_EVENTS', 'the event stream ended without any state');
    return last;
  }

  async #login(email: string, password: string): Promise<void> {
    const body = (await this.#json('POST', '/v1/auth/login', { email, password })) as { accessToken: string };
    this.#token = body.accessToken;
  }

  #headers(): Record<string, string> {
    return this.#token ? { authorization: `Bearer ${this.#token}` } : {};
  }

  async #json(method: string, path: string, body?: unknown): Promise<unknown> {
    const res = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: { ...this.#headers(), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    return this.#read(res);
  }

  async #read(res: Response): Promise<unknown> {
    const text = await res.text();
    const body = text ? (JSON.parse(text) as { error?: { code: string; message: string } }) : {};
    if (!res.ok) {
      throw new ApiClientError(res.status, body.error?.code ?? `HTTP_${res.status}`, body.error?.message ?? text);
    }
    return body;
  }
}
