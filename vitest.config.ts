import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * The fault suite's files in this order over two workers: the Persona outage first (two
 * minutes, mostly waiting for Persona to come back) on one worker, the heaviest of the
 * others first on the second worker beside it, the short ones last.
 */
const FAULTS_ORDER = [
  'persona-outage',
  'fuzz',
  'worker-kills',
  'slow-clients',
  'redis-crash',
  'sentinels',
  'webhook-flood',
];

class FaultsInOrder extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const rank = (spec: TestSpecification) => {
      const name = /test\/faults\/([\w-]+)\.fault\.test\.ts$/.exec(spec.moduleId)?.[1];
      return name === undefined ? -1 : FAULTS_ORDER.indexOf(name);
    };
    const sorted = await super.sort(files);
    const faults = sorted.filter((s) => rank(s) >= 0).sort((a, b) => rank(a) - rank(b));
    return [...sorted.filter((s) => rank(s) < 0), ...faults];
  }
}

// Three projects: pure unit tests run in parallel; tests that use Redis, sockets or child
// processes (`*.int.test.ts`) run one file at a time, after the unit tests, so that
// timing-sensitive suites (the rate limiter, crash recovery) have the machine to themselves;
// the fault suite (`test/faults`, `pnpm test:faults`) runs last, against real processes, two
// files at a time in a fixed order (FAULTS_ORDER).
export default defineConfig({
  test: {
    sequence: { sequencer: FaultsInOrder },
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
          maxWorkers: 2,
          testTimeout: 300_000,
          hookTimeout: 60_000,
          sequence: { groupOrder: 2 },
        },
      },
    ],
  },
});
