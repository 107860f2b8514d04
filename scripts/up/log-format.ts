/** What `pnpm start` prints: its own lines, and its children's JSON log lines made readable. */

/** Writes one line of the script's own output. */
export const say = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

const LEVELS: Record<string, string> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO ',
  40: 'WARN ',
  50: 'ERROR',
  60: 'FATAL',
};

/**
 * One pino JSON line, compactly: time, process name, level, message, the other fields.
 * A line that is not JSON (redis-server, a crash) is indented under the process name.
 */
export function formatLogLine(name: string, line: string): string {
  try {
    const {
      time,
      level,
      service: _service,
      msg,
      pid: _pid,
      hostname: _host,
      ...rest
    } = JSON.parse(line) as Record<string, unknown>;
    const lvl = LEVELS[String(level)] ?? 'INFO ';
    const extra = Object.entries(rest)
      .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
      .join(' ');
    const clock = typeof time === 'string' ? time.slice(11, 23) : '';
    const text = typeof msg === 'string' ? msg : '';
    return `${clock} ${name.padEnd(16)} ${lvl} ${text}${extra ? `  ${extra}` : ''}`;
  } catch {
    return `${''.padEnd(12)} ${name.padEnd(16)} ${line}`;
  }
}

/** Passes the line through unchanged (LOG_FORMAT=json). */
export const rawLogLine = (_name: string, line: string): string => line;
