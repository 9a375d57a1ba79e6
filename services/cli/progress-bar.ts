/** A one-line progress bar on a terminal's stderr; silent when stderr is not a TTY. */
export class ProgressBar {
  private lastDraw = 0;
  private readonly started = performance.now();

  constructor(private readonly stream: NodeJS.WriteStream = process.stderr) {}

  get enabled(): boolean {
    return this.stream.isTTY === true;
  }

  update(label: string, done: number, total: number): void {
    if (!this.enabled) return;
    const now = performance.now();
    if (now - this.lastDraw < 80 && done < total) return;
    this.lastDraw = now;
    const width = 30;
    const fraction = total > 0 ? Math.min(1, done / total) : 0;
    const filled = Math.round(fraction * width);
    const elapsed = ((now - this.started) / 1000).toFixed(1);
    const counts = total > 0 ? ` ${done}/${total} frames` : '';
    this.stream.write(
      `\r${label.padEnd(10)} [${'█'.repeat(filled)}${'░'.repeat(width - filled)}] ${Math.round(fraction * 100)}%${counts} ${elapsed}s `,
    );
  }

  done(): void {
    if (this.enabled) this.stream.write('\r\x1b[2K');
  }
}
