import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseSignatureHeader, verifyPersonaSignature } from './signature.ts';

// The test vector of ../shared/persona/api-notes.md §2.4 (computed with Python and Node).
const SECRET = 'wbhsec_test_secret_do_not_use';
const OLD_SECRET = 'wbhsec_old_secret_do_not_use';
const T = 1709686052;
const BODY = Buffer.from(
  '{"data":{"type":"event","id":"evt_TEST123","attributes":{"name":"transaction.status-updated"}}}',
);
const V1 = 'c14e67eddafaccabfeac71e6c55c306b8a39e524c616822d83f68ed470abd1eb';
const V1_OLD = '78c89293ff26a2e2711d26ec3fd30da0c17291279f4e794b29e458829485536d';

const at = (nowSeconds: number, toleranceSeconds = 300) => ({ nowSeconds, toleranceSeconds });
const sign = (body: Buffer, secret: string, t: number) =>
  `t=${t},v1=${createHmac('sha256', secret).update(`${t}.`).update(body).digest('hex')}`;

describe('verifyPersonaSignature', () => {
  it("When the header matches Persona's published example, then it verifies", () => {
    expect(verifyPersonaSignature(BODY, `t=${T},v1=${V1}`, [SECRET], at(T))).toEqual({
      kind: 'valid',
      timestamp: T,
    });
    expect(verifyPersonaSignature(BODY, `t=${T},v1=${V1_OLD}`, [OLD_SECRET], at(T))).toEqual({
      kind: 'valid',
      timestamp: T,
    });
  });

  it('When a rotation sends two sets and only one matches a configured secret, then it verifies', () => {
    const header = `t=${T},v1=${V1} t=${T},v1=${V1_OLD}`;
    expect(verifyPersonaSignature(BODY, header, [OLD_SECRET], at(T)).kind).toBe('valid');
    expect(verifyPersonaSignature(BODY, header, ['wbhsec_other', SECRET], at(T)).kind).toBe(
      'valid',
    );
  });

  describe('adversarial / fail-closed', () => {
    it.each([
      [
        'a body changed by one byte',
        Buffer.from(BODY.toString().replace('TEST123', 'TEST124')),
        `t=${T},v1=${V1}`,
        'mismatch',
      ],
      [
        'one extra space in the body',
        Buffer.from(`${BODY.toString()} `),
        `t=${T},v1=${V1}`,
        'mismatch',
      ],
      ['a wrong secret', BODY, sign(BODY, 'wbhsec_wrong', T), 'mismatch'],
      ['a t that was not signed', BODY, `t=${T + 1},v1=${V1}`, 'mismatch'],
      ['no header', BODY, undefined, 'missing'],
      ['an empty header', BODY, '  ', 'missing'],
      ['t without v1', BODY, `t=${T}`, 'malformed'],
      ['v1 without t', BODY, `v1=${V1}`, 'malformed'],
      ['a non-hex v1', BODY, `t=${T},v1=${'z'.repeat(64)}`, 'malformed'],
      ['an odd-length v1', BODY, `t=${T},v1=${V1.slice(1)}`, 'malformed'],
      ['a duplicated t', BODY, `t=${T},t=${T},v1=${V1}`, 'malformed'],
      ['a non-numeric t', BODY, `t=soon,v1=${V1}`, 'malformed'],
      ['v0 instead of v1', BODY, `t=${T},v0=${V1}`, 'malformed'],
    ] as const)(
      'When the request has %s, then it is refused (%s)',
      (_label, body, header, reason) => {
        expect(verifyPersonaSignature(body, header, [SECRET], at(T))).toEqual({
          kind: 'invalid',
          reason,
        });
      },
    );

    it('When the timestamp is older or newer than the tolerance, then it is refused as stale', () => {
      const old = sign(BODY, SECRET, T - 301);
      const future = sign(BODY, SECRET, T + 301);
      expect(verifyPersonaSignature(BODY, old, [SECRET], at(T))).toEqual({
        kind: 'invalid',
        reason: 'stale',
      });
      expect(verifyPersonaSignature(BODY, future, [SECRET], at(T))).toEqual({
        kind: 'invalid',
        reason: 'stale',
      });
      expect(verifyPersonaSignature(BODY, sign(BODY, SECRET, T - 300), [SECRET], at(T)).kind).toBe(
        'valid',
      );
    });

    it('When the tolerance is 0, then the timestamp is not checked', () => {
      expect(
        verifyPersonaSignature(BODY, sign(BODY, SECRET, T - 86_400 * 3), [SECRET], at(T, 0)).kind,
      ).toBe('valid');
    });

    it('When a forged set sits next to a stale valid one, then nothing verifies', () => {
      const header = `t=${T},v1=${'0'.repeat(64)} ${sign(BODY, SECRET, T - 1000)}`;
      expect(verifyPersonaSignature(BODY, header, [SECRET], at(T)).kind).toBe('invalid');
    });
  });

  it('When a header is stuffed with many sets, then at most 4 candidates are tried', () => {
    const junk = Array.from({ length: 40 }, (_, i) => `t=${T + i},v1=${'ab'.repeat(32)}`);
    expect(parseSignatureHeader(junk.join(' '))).toHaveLength(4);
    // A real header has one set, two during a rotation: well inside the bound.
    const real = `t=${T},v1=${V1} t=${T},v1=${V1_OLD}`;
    expect(verifyPersonaSignature(BODY, real, [SECRET], at(T)).kind).toBe('valid');
    expect(
      verifyPersonaSignature(BODY, `${junk.join(' ')} t=${T},v1=${V1}`, [SECRET], at(T)).kind,
    ).toBe('invalid');
  });

  describe('fuzzing', () => {
    it('When headers and bodies are arbitrary, then parsing never throws and nothing verifies without the secret', () => {
      fc.assert(
        fc.property(
          fc.oneof(
            fc.string({ maxLength: 300 }),
            fc.stringMatching(
              /^(t=\d{0,12},?)?(v1=[0-9a-f]{0,66},?){0,3}( t=\d{1,10},v1=[0-9a-fA-F]{64})?$/,
            ),
            fc.constantFrom(undefined, '', ',', '=', 't=', 'v1=', `t=${T},v1=${V1}`),
          ),
          fc.uint8Array({ maxLength: 2048 }),
          (header, bytes) => {
            const body = Buffer.from(bytes);
            expect(() => parseSignatureHeader(header)).not.toThrow();
            const result = verifyPersonaSignature(body, header, [SECRET], at(T, 0));
            // The only way to verify is a real HMAC of this body under the secret.
            if (result.kind === 'valid')
              expect(header).toContain(
                createHmac('sha256', SECRET)
                  .update(`${result.timestamp}.`)
                  .update(body)
                  .digest('hex'),
              );
          },
        ),
        { numRuns: 5000 },
      );
    });

    it('When a body is signed with any other secret, then it never verifies', () => {
      fc.assert(
        fc.property(
          fc.string({ minLength: 1, maxLength: 64 }),
          fc.uint8Array({ maxLength: 512 }),
          fc.integer({ min: 0, max: 2 ** 40 }),
          (secret, bytes, t) => {
            fc.pre(secret !== SECRET);
            const body = Buffer.from(bytes);
            expect(verifyPersonaSignature(body, sign(body, secret, t), [SECRET], at(t)).kind).toBe(
              'invalid',
            );
          },
        ),
        { numRuns: 2000 },
      );
    });
  });
});
