/**
 * Where each setting of a distill job came from, in the command line's terms: the preset, the
 * config file, a flag, the default job, or distill.seed (the experts' seed). The job reports what
 * it applied as data (its 'settings' event); this names the config file and the flags, for the
 * human lines on stderr and for machine-readable output alike.
 */
import { AppliedSetting } from '../distill/job';

export interface SettingSource {
  /** Key path, e.g. distill.lrImg. */
  path: string;
  value: unknown;
  from: 'preset' | 'config' | 'flag' | 'options' | 'default job' | 'distill.seed';
  /** The preset's name, the config file, the flag ('--ipc'), or the key path it follows. */
  source: string;
}

/** The job's applied settings with their sources: `sources` maps key paths to a flag or "file: key.path". */
export function settingSources(applied: readonly AppliedSetting[], preset: string | null, sources: ReadonlyMap<string, string>): SettingSource[] {
  return applied.map(({ path, value, from }) => {
    if (from === 'preset') return { path, value, from, source: preset ?? 'preset' };
    if (from === 'default job') return { path, value, from, source: 'the default job' };
    if (from === 'distill.seed') return { path, value, from, source: sources.get('distill.seed') ?? 'distill.seed' };
    const given = sources.get(path);
    if (given === undefined) return { path, value, from: 'options', source: 'options' };
    if (given.startsWith('--')) return { path, value, from: 'flag', source: given };
    // config-file sources read "<file>: <key path>"
    return { path, value, from: 'config', source: given.slice(0, given.length - `: ${path}`.length) };
  });
}

const show = (value: unknown) => (typeof value === 'string' ? value : JSON.stringify(value));

/** Human lines: the preset, then one line per source with what it set. */
export function describeSettings(preset: string | null, settings: readonly SettingSource[]): string[] {
  const lines = [preset ? `preset: ${preset}` : 'preset: none (only the config file, the flags and the defaults apply)'];
  const bySource = new Map<string, string[]>();
  for (const s of settings) {
    const title =
      s.from === 'preset'
        ? `from preset ${s.source}`
        : s.from === 'config'
          ? `from the config file ${s.source}`
          : s.from === 'flag'
            ? 'from flags'
            : s.from === 'distill.seed'
              ? `from ${s.source} (the experts' seed follows the run's)`
              : `from ${s.source}`;
    const item = s.from === 'flag' ? `${s.source} ${show(s.value)}` : `${s.path}=${show(s.value)}`;
    bySource.set(title, [...(bySource.get(title) ?? []), item]);
  }
  for (const [title, items] of bySource) lines.push(`${title}: ${items.join(', ')}`);
  return lines;
}
