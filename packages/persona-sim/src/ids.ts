import { randomBytes } from 'node:crypto';

const ALPHABET = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';

/** `prefix` (separator included) and 28 base58 characters: `mintId('txn_')` → `txn_26wUfNNK6Ze7qkwyK6kuj7RkZgdP`. */
function mintId(prefix: string): string {
  const bytes = randomBytes(28);
  let out = '';
  for (const b of bytes) out += ALPHABET[b % ALPHABET.length];
  return `${prefix}${out}`;
}

/** The kinds of ids the simulator mints. */
export type IdKind = 'transaction' | 'event' | 'verification' | 'report' | 'account' | 'request';

const DEFAULT_ID_PREFIXES: Readonly<Record<IdKind, string>> = {
  transaction: 'txn_',
  event: 'evt_',
  verification: 'ver_',
  report: 'rep_',
  account: 'act_',
  request: 'req_',
};

/** Mints every id of one simulator with its configured prefixes. */
export class IdMinter {
  readonly prefixes: Readonly<Record<IdKind, string>>;

  constructor(prefixes: Partial<Record<IdKind, string>> = {}) {
    this.prefixes = { ...DEFAULT_ID_PREFIXES, ...prefixes };
  }

  mint(kind: IdKind): string {
    return mintId(this.prefixes[kind]);
  }
}
