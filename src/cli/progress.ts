/** Progress bars on the terminal (cli-progress), silent in quiet/JSON modes or without a TTY. */
import { MultiBar, Presets, SingleBar } from 'cli-progress';
import { BufferEvent } from '../trajectory/buffer';

export interface Progress {
  /** A new bar (the previous one stays on screen, finished). */
  start(total: number, payload?: Record<string, unknown>): void;
  update(value: number, payload?: Record<string, unknown>): void;
  /** A line above the bars. */
  log(line: string): void;
  /** Ends the display; call once, at the end. */
  close(): void;
}

/** Bars with the given format (cli-progress tokens: {bar} {value} {total} {eta_formatted} and payload names). */
export function progressBar(format: string, enabled: boolean): Progress {
  if (!enabled || !process.stderr.isTTY) {
    return { start() {}, update() {}, log: (line) => console.error(line), close() {} };
  }
  const multi = new MultiBar({ format, stream: process.stderr, hideCursor: true, clearOnComplete: false, etaBuffer: 20 }, Presets.shades_classic);
  let bar: SingleBar | undefined;
  return {
    start(total, payload) {
      bar?.stop();
      bar = multi.create(total, 0, payload);
    },
    update(value, payload) {
      bar?.update(value, payload);
    },
    log(line) {
      multi.log(`${line}\n`);
    },
    close() {
      multi.stop();
    },
  };
}

/** Shows expert training: one bar per expert, a line per finished expert. */
export function showExpertTraining(quiet: boolean): { onEvent: (e: BufferEvent) => void; close: () => void } {
  const bar = progressBar('expert {expert} |{bar}| epoch {value}/{total} | loss {loss} | acc {acc} | ETA {eta_formatted}', !quiet);
  const say = (line: string) => {
    if (!quiet) bar.log(line);
  };
  return {
    onEvent(e) {
      if (e.type === 'start')
        say(`buffer ${e.dir}: ${e.numExperts} experts x ${e.epochs} epochs${e.skipped.length ? `, ${e.skipped.length} already done` : ''}`);
      else if (e.type === 'epoch') {
        if (e.epoch === 1) bar.start(e.epochs, { expert: e.expert, loss: '-', acc: '-' });
        bar.update(e.epoch, { expert: e.expert, loss: e.loss.toFixed(4), acc: e.accuracy.toFixed(4) });
      } else {
        say(
          `expert ${e.expert}: ${e.converted ? 'converted from its MTT file' : `test accuracy ${(100 * e.testAccuracy).toFixed(2)}%`} (${e.seconds.toFixed(1)} s) -> ${e.files.join(', ')}`,
        );
      }
    },
    close: () => bar.close(),
  };
}
