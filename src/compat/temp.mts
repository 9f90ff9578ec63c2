// The ES module face of securetemp/temp: the CommonJS object as default (temp is CommonJS; Node
// gives its exports as named ones too), and named exports read when imported.
import temp from './temp.js';

export default temp;
export const { dir, track, mkdir, mkdirSync, open, openSync, path, cleanup, cleanupSync, createWriteStream } = temp;
export type AffixOptions = temp.AffixOptions;
export type OpenFile = temp.OpenFile;
export type Stats = temp.Stats;
