// What every benchmark here shares: the median, the file system's name, and private work
// directories that are removed at the end (also on Ctrl-C), counting what a case left behind.
import * as fs from 'node:fs';

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export function fsType(dir) {
  try {
    const t = fs.statfsSync(dir).type;
    if (t === 0xef53) return 'ext4';
    if (t === 0x01021994) return 'tmpfs';
    return `0x${t.toString(16)}`;
  } catch {
    return 'unknown';
  }
}

/**
 * Work directories: `add(w)` registers one, `remove(w, count)` removes it (with `count`, warning
 * about and counting the entries a case left there, except those `expected(name)` accepts);
 * whatever is still registered is removed at exit or on SIGINT/SIGTERM.
 */
export function workDirs({ expected = () => false, noun = 'entries', onExitError = null } = {}) {
  const dirs = new Set();
  const state = {
    leftovers: 0,
    add(w) {
      dirs.add(w);
      return w;
    },
    remove(w, count) {
      if (!dirs.has(w)) return;
      dirs.delete(w);
      if (count) {
        try {
          const left = fs.readdirSync(w).filter((n) => !expected(n));
          if (left.length > 0) {
            state.leftovers += left.length;
            console.error(`warning: ${left.length} ${noun} left behind in ${w} (e.g. ${left.slice(0, 3).join(', ')}); removing them`);
          }
        } catch {
          // already gone
        }
      }
      fs.rmSync(w, { recursive: true, force: true });
    },
  };
  const cleanupAll = () => {
    for (const w of [...dirs]) {
      try {
        state.remove(w, false);
      } catch (e) {
        if (onExitError) onExitError(w, e); // otherwise: best effort at exit
      }
    }
  };
  process.on('exit', cleanupAll);
  for (const sig of ['SIGINT', 'SIGTERM']) {
    process.on(sig, () => {
      cleanupAll();
      process.exit(130);
    });
  }
  return state;
}
