/**
 * A progress line for long work (bulk enrolment, index builds, benchmarks). It redraws in place on
 * a terminal and prints a line every few seconds otherwise, so CI logs stay short.
 */
export class Progress {
  private done = 0;
  private lastPrint = 0;
  private readonly started = Date.now();
  constructor(
    private readonly label: string,
    private readonly total: number,
    private readonly out: NodeJS.WriteStream = process.stderr,
  ) {}

  tick(n = 1): void {
    this.done += n;
    const now = Date.now();
    const tty = this.out.isTTY === true;
    if (this.done < this.total && now - this.lastPrint < (tty ? 100 : 5000)) return;
    this.lastPrint = now;
    this.print(tty);
  }

  finish(): void {
    this.done = Math.max(this.done, this.total);
    this.print(this.out.isTTY === true);
    if (this.out.isTTY === true) this.out.write('\n');
  }

  private print(tty: boolean): void {
    const secs = (Date.now() - this.started) / 1000;
    const rate = this.done / Math.max(secs, 1e-3);
    const pct = this.total > 0 ? Math.floor((100 * this.done) / this.total) : 100;
    const width = 24;
    const filled = Math.round((width * pct) / 100);
    const bar = '#'.repeat(filled) + '.'.repeat(width - filled);
    const eta = rate > 0 ? Math.max(0, (this.total - this.done) / rate) : 0;
    const line = `${this.label} [${bar}] ${this.done}/${this.total} ${pct}% ${rate.toFixed(1)}/s eta ${eta.toFixed(0)}s`;
    if (tty) this.out.write(`\r${line}\x1b[K`);
    else this.out.write(`${line}\n`);
  }
}
