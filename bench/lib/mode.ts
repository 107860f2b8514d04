/** How long and how big each benchmark runs: `--quick` (under 3 minutes in all) or full. */
export interface Mode {
  name: 'quick' | 'full';
  /** Rounds of each benchmark (alternating ours and the baseline); ratios are their median. */
  rounds: number;
  /** One closed-loop HTTP load run (gateway, receiver). */
  loadSeconds: number;
  /** Unmeasured load on each server before its first round. */
  warmupSeconds: number;
  /** Also run ours with LOG_LEVEL=warn (beside the production default info). */
  warnVariant: boolean;
  /** Webhook deliveries in the event backlog (10 % of them duplicates). */
  backlog: number;
  /** The drain rate is measured until the backlog is drained or for this long at most. */
  drainWindowSeconds: number;
  /** Worker process counts of the drain benchmark. */
  drainProcesses: number[];
  /** Event jobs per worker process, ours and plain alike (our EVENT_CONCURRENCY default). */
  eventConcurrency: number;
  /** The steady end-to-end run: events per second, and for how long. */
  e2eRate: number;
  e2eSeconds: number;
  /** Requests (and events) whose Redis footprint is measured. */
  memoryRequests: number;
  /** The limiter benchmark: seconds per process count. */
  limiterSeconds: number;
  limiterProcesses: number[];
}

export const QUICK: Mode = {
  name: 'quick',
  rounds: 3,
  loadSeconds: 2,
  warmupSeconds: 1,
  warnVariant: false,
  backlog: 1_500,
  drainWindowSeconds: 30,
  drainProcesses: [1, 3],
  eventConcurrency: 64,
  e2eRate: 500,
  e2eSeconds: 2,
  memoryRequests: 200,
  limiterSeconds: 5,
  limiterProcesses: [1, 3, 8],
};

export const FULL: Mode = {
  name: 'full',
  rounds: 3,
  loadSeconds: 5,
  warmupSeconds: 2,
  warnVariant: true,
  backlog: 50_000,
  drainWindowSeconds: 20,
  drainProcesses: [1, 3],
  eventConcurrency: 64,
  e2eRate: 500,
  e2eSeconds: 8,
  memoryRequests: 2_000,
  limiterSeconds: 120,
  limiterProcesses: [1, 3, 8],
};
