// Name samples for the Windows rules of prefix/suffix, shared by test/names-windows.test.ts
// (the TypeScript validation, on every system) and test/windows/names.test.mjs (the same
// samples against the real addon under Windows or Wine). CommonJS: loadable by both.
'use strict';

/** Affixes refused on Windows, with the words their error message must contain. */
const refusedOnWindows = {
  prefix: [
    ['a\\b', 'path separator'],
    ['a:b', '":"'],
    ['a<b', 'Windows does not allow'],
    ['a>b', 'Windows does not allow'],
    ['a"b', 'Windows does not allow'],
    ['a|b', 'Windows does not allow'],
    ['a?b', 'Windows does not allow'],
    ['a*b', 'Windows does not allow'],
    ['a\x01b', 'Windows does not allow'],
    ['a\x1fb', 'Windows does not allow'],
    ['con.', 'device name'],
    ['CON.', 'device name'],
    ['Con .', 'device name'],
    ['nul.txt.', 'device name'],
    ['NUL.x', 'device name'],
    ['prn.', 'device name'],
    ['aux.', 'device name'],
    ['com1.', 'device name'],
    ['COM9.', 'device name'],
    ['com0.', 'device name'],
    ['lpt1.', 'device name'],
    ['LPT5.log', 'device name'],
    ['com\u00b9.', 'device name'],
    ['lpt\u00b3.', 'device name'],
    ['conin$.', 'device name'],
    ['CONOUT$.', 'device name'],
  ],
  suffix: [
    ['\\x', 'path separator'],
    [':x', '":"'],
    ['.tx?', 'Windows does not allow'],
    ['*', 'Windows does not allow'],
    ['x\x1f', 'Windows does not allow'],
    ['x.', 'end with a dot or a space'],
    ['.txt.', 'end with a dot or a space'],
    [' ', 'end with a dot or a space'],
    ['.txt ', 'end with a dot or a space'],
    ['...', 'end with a dot or a space'],
  ],
};

/**
 * Affixes accepted on Windows: the name they make (prefix + random part + suffix) is one
 * Win32 keeps as it is. A prefix's trailing dot or space is inside the name; a device
 * name without a dot after it, or in the suffix, is never the whole stem.
 */
const acceptedOnWindows = {
  prefix: ['tmp', 'tmp.', 'tmp ', 'tmp. ', 'con', 'CON', 'nul', 'com1', 'lpt9', 'con ', 'console.', 'com10.', 'xcon.', 'comx.',
    'é😀', '.hidden', '~$', 'a b', "it's", '#[]{}()&^%@!,;=+'],
  suffix: ['', '.txt', '.tar.gz', 'con', '.con', 'nul.txt', 'com1', 'con.x', 'x ~', 'é😀.dat', '.a b'],
};

/**
 * The addon's check_name (native/win32.cc), ported: whether Win32 would keep `name` as
 * it is. The TypeScript rules must agree with it on every name prefix + random + suffix.
 */
function win32KeepsName(name) {
  if (name.length === 0 || name.length > 255) return false;
  for (const ch of name) if (ch.charCodeAt(0) < 0x20 || '<>:"/\\|?*'.includes(ch)) return false;
  if (name.endsWith('.') || name.endsWith(' ')) return false;
  let base = name.split('.')[0].replace(/ +$/, '').replace(/[a-z]/g, (c) => c.toUpperCase());
  if (['CON', 'PRN', 'AUX', 'NUL', 'CONIN$', 'CONOUT$'].includes(base)) return false;
  if (base.length === 4 && (base.startsWith('COM') || base.startsWith('LPT')) && /[0-9\u00b9\u00b2\u00b3]/.test(base[3])) return false;
  return true;
}

module.exports = { refusedOnWindows, acceptedOnWindows, win32KeepsName };
