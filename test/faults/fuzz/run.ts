import fc from 'fast-check';
import { expect } from 'vitest';

/**
 * Properties run with several cases in flight. The cases are the ones
 * `fc.assert(fc.asyncProperty(arbitrary, check), { seed })` would try, in the same order:
 * drawn with `fc.sample` a window at a time (a window starts at its `path`, fast-check's own
 * replay position). A failing case is reported with its seed and index: it comes back with
 * `fc.sample(arbitrary, { seed, path: String(index), numRuns: 1 })[0]`, and
 * `fc.assert(fc.asyncProperty(arbitrary, check), { seed, path: String(index) })` runs it
 * again, alone, and shrinks it.
 */

/** Runs `numRuns` cases drawn from `seed`; rejects with the failing ones. */
export type Property = (numRuns: number, seed: number) => Promise<void>;

/** Cases in flight at once, per property. */
const CONCURRENCY = 8;
/** Cases drawn at a time: bodies of up to a megabyte are not all held at once. */
const WINDOW = 500;
/** Failures reported (every one in flight is kept; the first ones are shown). */
const SHOWN = 3;

interface Failure {
  index: number;
  value: unknown;
  error: unknown;
}

const cut = (text: string, max = 2000) =>
  text.length > max ? `${text.slice(0, max)}… (${text.length} characters)` : text;

function report(failures: Failure[], seed: number, numRuns: number): string {
  const shown = failures
    .toSorted((a, b) => a.index - b.index)
    .slice(0, SHOWN)
    .map(({ index, value, error }) =>
      [
        `case ${index} of ${numRuns} failed (seed ${seed}, path "${index}": ` +
          `fc.sample(arbitrary, { seed, path, numRuns: 1 }) draws it again)`,
        cut(error instanceof Error ? error.message : String(error)),
        `Case: ${cut(fc.stringify(value))}`,
      ].join('\n'),
    );
  return [...shown, ...(failures.length > SHOWN ? [`(${failures.length - SHOWN} more)`] : [])].join(
    '\n\n',
  );
}

/**
 * A property: `check` on each case, `CONCURRENCY` at a time. Cases of the same `lane` (an
 * Idempotency-Key, an event id: whatever makes one answer depend on an earlier one) run one
 * after the other, in the order they were drawn, as they would one at a time. After a
 * failure no case is started; those in flight finish and are reported too.
 */
export function fuzz<T>(
  arbitrary: fc.Arbitrary<T>,
  check: (value: T) => Promise<void>,
  { lane }: { lane?: (value: T) => string | undefined } = {},
): Property {
  return async (numRuns, seed) => {
    const failures: Failure[] = [];
    const lanes = new Map<string, Promise<void>>();
    function* cases() {
      for (let start = 0; start < numRuns; start += WINDOW) {
        const window = fc.sample(arbitrary, {
          seed,
          path: String(start),
          numRuns: Math.min(WINDOW, numRuns - start),
        });
        for (const [offset, value] of window.entries()) yield { index: start + offset, value };
      }
    }
    const source = cases();
    const launch = ({ index, value }: { index: number; value: T }) => {
      const key = lane?.(value);
      const before = key === undefined ? undefined : lanes.get(key);
      const run = (async () => {
        await before;
        try {
          await check(value);
        } catch (error) {
          failures.push({ index, value, error });
        }
      })();
      if (key !== undefined) {
        lanes.set(key, run);
        void run.then(() => lanes.get(key) === run && lanes.delete(key));
      }
      return run;
    };
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        for (let next = source.next(); !next.done; next = source.next()) {
          if (failures.length > 0) return;
          await launch(next.value);
        }
      }),
    );
    if (failures.length > 0) throw new Error(report(failures, seed, numRuns));
  };
}

/**
 * Runs every property at once, the seed of each `seed` + its index, then fails with the
 * failures of every property, not just the first one's.
 */
export async function runAll(properties: Record<string, Property>, numRuns: number, seed: number) {
  const names = Object.keys(properties);
  const results = await Promise.allSettled(
    names.map((name, i) => properties[name]!(numRuns, seed + i)),
  );
  const failures = results.flatMap((r, i) =>
    r.status === 'rejected' ? [`${names[i]}: ${(r.reason as Error).message}`] : [],
  );
  expect(failures).toEqual([]);
}
