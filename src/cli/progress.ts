/**
 * What a command shows on the terminal while it works: lines that stay (a log) and, on a TTY,
 * one progress bar below them (cli-progress). One Screen per command, shared by every step it
 * runs (expert training, then the distillation), so two displays never fight over the cursor.
 *
 * cli-progress draws and redraws the bar; this module decides what goes on it. It computes the
 * elapsed time, the rate and the ETA itself from the steps done in this process (a resumed run's
 * earlier steps do not count towards the rate), fits the bar's line to the terminal's width
 * (cli-progress turns the terminal's line wrapping off while a bar is shown, so a longer line
 * would be cut), wraps log lines at spaces to the same width, and writes pending log lines
 * before the display stops (MultiBar.stop does not flush them).
 */
import { Format, MultiBar } from 'cli-progress';
import { BufferEvent } from '../trajectory/buffer';

export interface Bar {
  /** Shows the bar at `value` of `total` (named `label`: the screen's name for it unless given); the rate and the ETA count from `value`. */
  start(total: number, value?: number, fields?: Record<string, string>, label?: string): void;
  /** Moves the bar; `fields` (name -> value) are shown after the ETA while they fit. */
  update(value: number, fields?: Record<string, string>): void;
  /** A state shown in place of the fields (e.g. "evaluating ..."), until cleared with undefined. */
  status(text: string | undefined): void;
  /** Removes the bar and (unless `summary` is false) logs a line of what it did: steps, elapsed time and rate. */
  end(summary?: boolean): void;
}

export interface Screen {
  /** A bar named `label` counting `unit`s (it, epoch). */
  bar(label: string, unit: string): Bar;
  /** A line that stays, above the bar. */
  log(line: string): void;
  /** Ends the display (pending lines written, any bar removed); call once, at the end. */
  close(): void;
}

/** A screen on stderr: silent when `enabled` is false, lines only when stderr is not a terminal. */
export function openScreen(enabled: boolean): Screen {
  if (!enabled) return { bar: () => silentBar(), log() {}, close() {} };
  if (!process.stderr.isTTY) return plainScreen();
  return terminalScreen();
}

function silentBar(): Bar {
  return { start() {}, update() {}, status() {}, end() {} };
}

/** Not a terminal (a log file, a pipe): the log lines, and each bar's closing line. */
function plainScreen(): Screen {
  const log = (line: string) => process.stderr.write(`${line}\n`);
  return {
    bar: (name, unit) => {
      const m = new Meter();
      let label = name;
      return {
        start: (total, value = 0, _f, l) => {
          label = l ?? name;
          m.start(total, value);
        },
        update: (value) => m.update(value),
        status() {},
        end: (summary = true) => {
          if (m.started && summary) log(m.summary(label, unit));
          m.started = false;
        },
      };
    },
    log,
    close() {},
  };
}

/** Counts steps and time of one bar. */
export class Meter {
  started = false;
  total = 0;
  value = 0;
  private startValue = 0;
  private startTime = 0;

  start(total: number, value: number): void {
    Object.assign(this, { started: true, total, value, startValue: value, startTime: Date.now() });
  }
  update(value: number): void {
    this.value = value;
  }
  seconds(): number {
    return (Date.now() - this.startTime) / 1000;
  }
  /** Steps per second in this process, or undefined before the first step. */
  rate(): number | undefined {
    const done = this.value - this.startValue;
    const s = this.seconds();
    return done > 0 && s > 0 ? done / s : undefined;
  }
  eta(): string {
    const r = this.rate();
    if (r === undefined) return '-';
    const left = (this.total - this.value) / r;
    return left > 0 && left < 1 ? '<1s' : formatSeconds(left); // "0s" is kept for a finished bar
  }
  summary(label: string, unit: string): string {
    const done = this.value - this.startValue;
    const resumed = this.startValue > 0 ? ` (resumed at ${this.startValue})` : '';
    return `${label}: ${this.value}/${this.total}${resumed}, ${done} ${unit} in ${formatSeconds(this.seconds())} (${formatRate(this.rate(), unit)})`;
  }
}

function terminalScreen(): Screen {
  const stream = process.stderr;
  const width = () => Math.max(20, (stream.columns || 80) - 1);
  let multi: MultiBar | undefined;
  const display = () => {
    multi ??= new MultiBar({ stream, hideCursor: true, clearOnComplete: true, gracefulExit: false, format: () => '' });
    return multi;
  };
  const log = (line: string) => {
    if (!multi) {
      for (const l of wrap(line, width())) stream.write(`${l}\n`);
      return;
    }
    for (const l of wrap(line, width())) multi.log(`${l}\n`);
    multi.update(); // now, not at the next redraw: a line logged just before stop() would be lost
  };
  return {
    bar(name, unit) {
      const m = new Meter();
      let label = name;
      let fields: Record<string, string> = {};
      let status: string | undefined;
      let handle: ReturnType<MultiBar['create']> | undefined;
      const line = () => barLine(label, unit, m, status ? { '': status } : fields, width());
      return {
        start(total, value = 0, f = {}, l) {
          if (handle) display().remove(handle);
          label = l ?? name;
          m.start(total, value);
          fields = f;
          status = undefined;
          handle = display().create(total, value, {}, { format: line });
        },
        update(value, f) {
          m.update(value);
          if (f) fields = { ...fields, ...f };
          handle?.update(value);
        },
        status(text) {
          status = text;
          multi?.update();
        },
        end(summary = true) {
          if (!handle) return;
          display().remove(handle);
          handle = undefined;
          if (summary) log(m.summary(label, unit));
        },
      };
    },
    log,
    close() {
      if (!multi) return;
      multi.update(); // pending lines
      multi.stop();
      multi = undefined;
    },
  };
}

/**
 * `label |bar| value/total | elapsed | rate | ETA | fields`, at most `width` characters: the bar
 * shrinks first, then the fields are left out from the last.
 */
export function barLine(label: string, unit: string, m: Meter, fields: Record<string, string>, width: number): string {
  const head = (bar: string) => `${label} |${bar}| ${m.value}/${m.total}`;
  const core = [formatSeconds(m.seconds()), formatRate(m.rate(), unit), `ETA ${m.eta()}`];
  const extra = Object.entries(fields).map(([k, v]) => (k ? `${k} ${v}` : v));
  const progress = m.total > 0 ? Math.min(1, m.value / m.total) : 0;
  const compose = (barSize: number, parts: string[]) =>
    [
      head(Format.BarFormat(progress, { barsize: barSize, barCompleteString: '█'.repeat(barSize), barIncompleteString: '░'.repeat(barSize), barGlue: '' })),
      ...parts,
    ].join(' | ');
  let parts = [...core, ...extra];
  for (;;) {
    const fixed = compose(0, parts).length;
    const barSize = Math.min(30, width - fixed);
    if (barSize >= 8 || parts.length === 0) return compose(Math.max(0, barSize), parts).slice(0, width);
    parts = parts.slice(0, -1);
  }
}

/** Splits a line at spaces into lines of at most `width` characters (a longer word is split); continued lines are indented. */
export function wrap(line: string, width: number): string[] {
  const out: string[] = [];
  let rest = line;
  let indent = '';
  // each pass takes at least one character off `rest`
  while (indent.length + rest.length > width) {
    // no indent for a word (a path) that fits the width only without it
    const word = rest.split(' ', 1)[0].length;
    if (indent && word + indent.length > width && word <= width) indent = '';
    const room = Math.max(1, width - indent.length);
    const cut = rest.lastIndexOf(' ', room);
    if (cut > 0) {
      out.push(indent + rest.slice(0, cut));
      rest = rest.slice(cut + 1);
    } else {
      out.push(indent + rest.slice(0, room));
      rest = rest.slice(room);
    }
    indent = '  ';
  }
  if (rest || out.length === 0) out.push(indent + rest);
  return out;
}

/** 7s, 3m05s, 2h04m. */
export function formatSeconds(s: number): string {
  if (!Number.isFinite(s) || s < 0) return '-';
  const t = Math.round(s);
  if (t < 60) return `${t}s`;
  if (t < 3600) return `${Math.floor(t / 60)}m${String(t % 60).padStart(2, '0')}s`;
  return `${Math.floor(t / 3600)}h${String(Math.floor((t % 3600) / 60)).padStart(2, '0')}m`;
}

/** 12.3 it/s, or 4.5 s/it when slower than one a second. */
export function formatRate(rate: number | undefined, unit: string): string {
  if (rate === undefined) return `- ${unit}/s`;
  return rate >= 1 ? `${rate.toPrecision(3)} ${unit}/s` : `${(1 / rate).toPrecision(3)} s/${unit}`;
}

/** Shows expert training: one bar per expert, a line per finished expert. */
export function showExpertTraining(screen: Screen): (e: BufferEvent) => void {
  const bar = screen.bar('expert', 'epoch');
  return (e) => {
    if (e.type === 'start')
      screen.log(`buffer ${e.dir}: ${e.numExperts} experts x ${e.epochs} epochs${e.skipped.length ? `, ${e.skipped.length} already done` : ''}`);
    else if (e.type === 'epoch') {
      if (e.epoch === 1) bar.start(e.epochs, 0, {}, `expert ${e.expert}`);
      bar.update(e.epoch, { loss: e.loss.toFixed(4), acc: e.accuracy.toFixed(4) });
    } else {
      bar.end(false); // the expert's own line says it all
      screen.log(
        `expert ${e.expert}: ${e.converted ? 'converted from its MTT file' : `test accuracy ${(100 * e.testAccuracy).toFixed(2)}%`} (${e.seconds.toFixed(1)} s) -> ${e.files.join(', ')}`,
      );
    }
  };
}
