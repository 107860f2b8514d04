import { defineConfig } from 'vitest/config';

// Three projects: pure unit tests run in parallel; tests that use Redis, sockets or child
// processes (`*.int.test.ts`) run one file at a time, after the unit tests, so that
// timing-sensitive suites (the rate limiter, crash recovery) have the machine to themselves;
// the fault suite (`test/faults`, `pnpm test:faults`) runs last, against real processes, one
// file at a time beside the Persona outage, which spends its two minutes mostly waiting (a
// project of the same group order runs at the same time).
const OUTAGE = 'test/faults/persona-outage.fault.test.ts';

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: [
            'packages/*/src/**/*.test.ts',
            'services/*/src/**/*.test.ts',
            'packages/*/test/**/*.test.ts',
            'services/*/test/**/*.test.ts',
            'test/**/*.test.ts',
          ],
          exclude: ['**/*.int.test.ts', '**/*.fault.test.ts', '**/node_modules/**'],
          sequence: { groupOrder: 0 },
        },
      },
      {
        test: {
          name: 'integration',
          include: [
            'packages/*/test/**/*.int.test.ts',
            'services/*/test/**/*.int.test.ts',
            'test/**/*.int.test.ts',
          ],
          fileParallelism: false,
          testTimeout: 120_000,
          hookTimeout: 60_000,
          sequence: { groupOrder: 1 },
        },
      },
      {
        test: {
          name: 'faults',
          include: ['test/faults/**/*.fault.test.ts'],
          exclude: [OUTAGE, '**/node_modules/**'],
          fileParallelism: false,
          testTimeout: 300_000,
          hookTimeout: 60_000,
          sequence: { groupOrder: 2 },
        },
      },
      {
        test: {
          name: 'faults-outage',
          include: [OUTAGE],
          testTimeout: 300_000,
          hookTimeout: 60_000,
          sequence: { groupOrder: 2 },
        },
      },
    ],
  },
});
