import { readFileSync, writeFileSync } from 'node:fs';

/** A `kB` field of /proc/<pid>/status (VmRSS, VmHWM), in bytes; NaN once the process is gone. */
export function procStatusBytes(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
    return match ? Number(match[1]) * 1024 : NaN;
  } catch {
    return NaN;
  }
}

/**
 * Resets the process's peak RSS (VmHWM) to its current RSS (`echo 5 > clear_refs`, Linux
 * 4.0+), so that the next reading is the peak of what follows. Returns false where that is
 * not allowed; the peak then covers the process's whole life.
 */
export function resetPeakRss(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}
