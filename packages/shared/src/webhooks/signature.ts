import { createHmac, timingSafeEqual } from 'node:crypto';

/** One `t=…,v1=…` set of a `Persona-Signature` header. */
export interface SignatureCandidate {
  t: number;
  v1: Buffer;
}

export type VerifyResult =
  | { kind: 'valid'; timestamp: number }
  | { kind: 'invalid'; reason: 'missing' | 'malformed' | 'mismatch' | 'stale' };

const MAX_HEADER = 4096;
/** Candidates tried at most: two secrets live during a rotation, with room to spare. */
const MAX_CANDIDATES = 4;
const HEX_SHA256 = /^[0-9a-fA-F]{64}$/;
const DIGITS = /^\d{1,15}$/;

/**
 * Parses `t=<unix>,v1=<hex>` sets separated by spaces (two during a secret rotation). A set
 * without exactly one `t` and at least one well-formed `v1` is ignored; nothing throws. At
 * most {@link MAX_CANDIDATES} candidates are kept: a stuffed header costs a few HMACs.
 */
export function parseSignatureHeader(header: string | undefined): SignatureCandidate[] {
  if (typeof header !== 'string' || header.length === 0 || header.length > MAX_HEADER) return [];
  const out: SignatureCandidate[] = [];
  for (const set of header.trim().split(/\s+/)) {
    let t: number | null = null;
    let tCount = 0;
    const v1s: Buffer[] = [];
    for (const part of set.split(',')) {
      const eq = part.indexOf('=');
      if (eq <= 0) continue;
      const key = part.slice(0, eq).trim();
      const value = part.slice(eq + 1).trim();
      if (key === 't') {
        tCount++;
        t = DIGITS.test(value) ? Number(value) : null;
      } else if (key === 'v1' && HEX_SHA256.test(value)) {
        v1s.push(Buffer.from(value, 'hex'));
      }
    }
    if (tCount !== 1 || t === null) continue;
    for (const v1 of v1s) {
      if (out.length >= MAX_CANDIDATES) return out;
      out.push({ t, v1 });
    }
  }
  return out;
}

/**
 * Checks `Persona-Signature` over the exact raw body: HMAC-SHA256(secret, "<t>.<body>"),
 * every configured secret against every candidate, compared in constant time. With a
 * tolerance above 0, the matching candidate's `t` must lie within it of `nowSeconds`, in
 * either direction.
 */
export function verifyPersonaSignature(
  rawBody: Buffer,
  header: string | undefined,
  secrets: readonly string[],
  { nowSeconds, toleranceSeconds }: { nowSeconds: number; toleranceSeconds: number },
): VerifyResult {
  if (header === undefined || header.trim() === '') return { kind: 'invalid', reason: 'missing' };
  const candidates = parseSignatureHeader(header);
  if (candidates.length === 0) return { kind: 'invalid', reason: 'malformed' };
  let stale = false;
  // One HMAC per timestamp and secret, whatever the number of v1s that share the timestamp.
  const macs = new Map<string, Buffer>();
  for (const { t, v1 } of candidates) {
    for (const secret of secrets) {
      const id = `${t}\n${secret}`;
      let expected = macs.get(id);
      if (!expected) {
        expected = createHmac('sha256', secret).update(`${t}.`).update(rawBody).digest();
        macs.set(id, expected);
      }
      if (expected.length === v1.length && timingSafeEqual(expected, v1)) {
        if (toleranceSeconds > 0 && Math.abs(nowSeconds - t) > toleranceSeconds) {
          stale = true;
          continue;
        }
        return { kind: 'valid', timestamp: t };
      }
    }
  }
  return { kind: 'invalid', reason: stale ? 'stale' : 'mismatch' };
}
