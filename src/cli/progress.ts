/** Progress bars on the terminal (cli-progress), silent in quiet/JSON modes or without a TTY. */
import { MultiBar, Presets, SingleBar } from 'cli-progress';

export interface Progress {
  start(total: number, payload?: Record<string, unknown>): void;
  update(value: number, payload?: Record<string, unknown>): void;
  log(line: string): void;
  stop(): void;
}

/** A bar with the given format (cli-progress tokens: {bar} {value} {total} {eta_formatted} and payload names). */
export function progressBar(format: string, enabled: boolean): Progress {
  if (!enabled || !process.stderr.isTTY) {
    return { start() {}, update() {}, log: (line) => console.error(line), stop() {} };
  }
  const multi = new MultiBar({ format, stream: process.stderr, hideCursor: true, clearOnComplete: false, etaBuffer: 20 }, Presets.shades_classic);
  let bar: SingleBar | undefined;
  return {
    start(total, payload) {
      bar = multi.create(total, 0, payload);
    },
    update(value, payload) {
      bar?.update(value, payload);
    },
    log(line) {
      multi.log(`${line}\n`);
    },
    stop() {
      multi.stop();
    },
  };
}
