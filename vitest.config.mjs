import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // forks, not threads: tests change the umask and load the addon, both per process
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // one private root for the whole run, as TMPDIR/TEMP/TMP; removed at the end (test/_tmproot.ts)
    globalSetup: ['./test/_tmproot.ts'],
  },
});
