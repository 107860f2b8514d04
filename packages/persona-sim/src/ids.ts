import { randomBytes } from 'node:crypto';

const ALPHABET = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';

/** Persona-shaped ids: a prefix and 28 base58 characters (`txn_26wUfNNK6Ze7qkwyK6kuj7RkZgdP`). */
export function personaId(prefix: string): string {
  const bytes = randomBytes(28);
  let out = '';
  for (const b of bytes) out += ALPHABET[b % ALPHABET.length];
  return `${prefix}_${out}`;
}
