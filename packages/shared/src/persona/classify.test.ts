import { describe, expect, it } from 'vitest';
import { classifyResponse, numericHeader } from './classify.ts';

const errors = (title: string, details?: string, pointer?: string) =>
  JSON.stringify({
    errors: [
      { title, ...(details ? { details } : {}), ...(pointer ? { source: { pointer } } : {}) },
    ],
  });

describe('classifyResponse', () => {
  it.each([
    [200, '{}', 'ok'],
    [201, '{}', 'ok'],
    [429, errors('Rate limit exceeded'), 'rate_limited'],
    [429, 'not json', 'rate_limited'],
    [429, errors('Quota exceeded'), 'quota_exceeded'],
    [
      403,
      errors('Quota exceeded', 'You have hit your create_transaction quota limit'),
      'quota_exceeded',
    ],
    [403, errors('Forbidden'), 'rejected'],
    [400, errors('Bad Request'), 'rejected'],
    [401, errors('Token is invalid'), 'rejected'],
    [404, errors('Record not found'), 'rejected'],
    [409, errors('Conflict'), 'conflict'],
    [422, errors('Unprocessable entity'), 'rejected'],
    [408, '', 'server_error'],
    [500, errors('Internal Server Error'), 'server_error'],
    [502, '<html>bad gateway</html>', 'server_error'],
    [503, '', 'server_error'],
    [504, '', 'server_error'],
  ])('When Persona answers %i %s, then the kind is %s', (status, body, kind) => {
    expect(classifyResponse(status, body).kind).toBe(kind);
  });

  it('When the key or its permissions are refused, then it is flagged as a configuration problem', () => {
    expect(classifyResponse(401, errors('Token is invalid'))).toMatchObject({
      kind: 'rejected',
      config: true,
    });
    expect(classifyResponse(403, errors('Forbidden'))).toMatchObject({
      kind: 'rejected',
      config: true,
    });
    expect(classifyResponse(422, errors('Unprocessable entity'))).toMatchObject({ config: false });
  });

  it('When the same key was used with another body, then it is flagged as an idempotency mismatch', () => {
    expect(
      classifyResponse(
        400,
        errors(
          'Idempotency error',
          'Keys for idempotent requests can only be used with the same parameters',
        ),
      ),
    ).toMatchObject({
      kind: 'rejected',
      idempotencyMismatch: true,
      errors: [{ title: 'Idempotency error' }],
    });
    expect(classifyResponse(400, errors('Bad Request'))).toMatchObject({
      idempotencyMismatch: false,
    });
  });

  it("When Persona explains a refusal, then its errors' titles and field paths are kept, never details that may echo values", () => {
    const result = classifyResponse(
      422,
      errors(
        'Unprocessable entity',
        "name_first 'Ada Lovelace' is invalid",
        '/data/attributes/fields/name_first',
      ),
    );
    expect(result).toMatchObject({
      errors: [{ title: 'Unprocessable entity', pointer: '/data/attributes/fields/name_first' }],
    });
    expect(JSON.stringify(result)).not.toContain('Ada');
  });
});

describe('numericHeader', () => {
  it('When headers come lower-cased, then the first present name wins and junk is ignored', () => {
    const headers = { 'ratelimit-reset': '42', 'quota-reset': 'soon', 'quotalimit-reset': '7' };
    expect(numericHeader(headers, 'RateLimit-Reset')).toBe(42);
    expect(numericHeader(headers, 'quota-reset', 'quotalimit-reset')).toBe(7);
    expect(numericHeader(headers, 'ratelimit-remaining')).toBeUndefined();
    expect(numericHeader({ x: ['3', '4'] }, 'x')).toBe(3);
    expect(numericHeader({ x: '-1' }, 'x')).toBeUndefined();
  });
});
