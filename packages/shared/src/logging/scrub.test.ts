import { describe, expect, it } from 'vitest';
import { scrubStack, scrubText, scrubValue } from './scrub.ts';

describe('scrubbing what people see of jobs', () => {
  it('When a payload holds unknown keys, then their values are hidden and known ones kept', () => {
    expect(
      scrubValue({
        transactionId: 'txn_26wUfNNK6Ze7qkwyK6kuj7RkZgdP',
        createdAt: '2026-01-01T00:00:00.000Z',
        requestId: 'req_1',
        status: 'approved',
        email: 'ada@example.com',
        nested: { name_first: 'Ada' },
        related: [{ id: 'ver_1', type: 'verification/database', ssn: '123-45-6789' }],
      }),
    ).toEqual({
      transactionId: 'txn_26wUfNNK6Ze7qkwyK6kuj7RkZgdP',
      createdAt: '2026-01-01T00:00:00.000Z',
      requestId: 'req_1',
      status: 'approved',
      email: '[hidden]',
      nested: '[hidden]',
      related: [{ id: 'ver_1', type: 'verification/database', ssn: '[hidden]' }],
    });
  });

  it('When free text carries quoted values, e-mail addresses or long numbers, then they are masked', () => {
    expect(
      scrubText('invalid value "Ada Lovelace" for ada@example.com, call +1 (555) 010-0000 now'),
    ).toBe('invalid value "…" for [email], call [number] now');
    expect(scrubText('persona 503')).toBe('persona 503');
    expect(scrubText('UnrecoverableError: request failed: persona_unavailable')).toBe(
      'UnrecoverableError: request failed: persona_unavailable',
    );
    expect(scrubText('Persona answered ECONNRESET')).toBe('Persona answered ECONNRESET');
  });

  it('When free text names someone without quotes, then capitalised words are masked', () => {
    expect(scrubText('lookup failed for Ada Lovelace SENTINEL-SSN')).toBe(
      'lookup failed for … … …',
    );
  });

  it('When a stack trace carries a message, then the message is scrubbed and the frames kept', () => {
    expect(scrubStack('Error: no Ada here\n    at Worker.run (file:///app/x.ts:1:2)')).toBe(
      'Error: no … here\n    at Worker.run (file:///app/x.ts:1:2)',
    );
  });

  it('When a known key holds personal text, then its text is scrubbed too', () => {
    expect(scrubValue({ reason: "rejected 'Ada' at ada@example.com by Ada" })).toEqual({
      reason: 'rejected "…" at [email] by …',
    });
  });
});
