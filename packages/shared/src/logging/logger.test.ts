import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { censor, createLogger } from './logger.ts';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean))
        lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { lines, logger: createLogger({ service: 'test', destination }) };
}

describe('log censoring', () => {
  it('When a line carries payload-shaped keys at the top or one level down, then their values are replaced', () => {
    const { lines, logger } = capture();
    const job = { id: 'j1', fields: { name_first: 'Ada' }, payload: { x: 1 } };
    logger.child({ token: 'tok-abc' }).info(
      {
        body: 'raw body',
        job,
        headers: { authorization: 'Bearer x', 'persona-signature': 't=1,v1=a', accept: '*/*' },
        req: { headers: { authorization: 'Bearer y' }, url: '/v1' },
        secrets: ['s1'],
        apiKey: 'k',
        deep: { inner: { fields: 'kept: deeper than one level' } },
      },
      'hello',
    );
    expect(lines[0]).toMatchObject({
      token: '[redacted]',
      body: '[redacted]',
      job: { id: 'j1', fields: '[redacted]', payload: '[redacted]' },
      headers: { authorization: '[redacted]', 'persona-signature': '[redacted]', accept: '*/*' },
      req: { headers: { authorization: '[redacted]' }, url: '/v1' },
      secrets: '[redacted]',
      apiKey: '[redacted]',
      msg: 'hello',
    });
    expect(JSON.stringify(lines[0])).not.toMatch(/Ada|tok-abc|Bearer [xy]|raw body|s1|v1=a/);
    // The caller's objects are left as they were.
    expect(job.fields).toEqual({ name_first: 'Ada' });
  });

  it('When a child makes a child, then the grandchild keeps both bindings, censored', () => {
    const { lines, logger } = capture();
    logger.child({ correlationId: 'c1' }).child({ secret: 's3cr3t', eventId: 'e1' }).info('x');
    expect(lines[0]).toMatchObject({ correlationId: 'c1', eventId: 'e1', secret: '[redacted]' });
  });

  it('When nothing needs censoring, then the object is passed through as it is', () => {
    const obj = { requestId: 'req_1', status: 202, nested: { ok: true } };
    expect(censor(obj)).toBe(obj);
  });

  it('When an error is logged, then it keeps its type and message (not walked as an object)', () => {
    const { lines, logger } = capture();
    const err = Object.assign(new Error('boom'), { body: 'secret body', code: 'E_X' });
    logger.warn({ err }, 'failed');
    expect(lines[0]!.err).toMatchObject({ type: 'Error', message: 'boom', code: 'E_X' });
    expect(JSON.stringify(lines[0])).not.toContain('secret body');
  });

  it('When a value is shaped like one of our secrets, then it is masked whatever its key', () => {
    const { lines, logger } = capture();
    logger.info({ note: 'key persona_sandbox_abc123 and wbhsec_xyz' }, 'Bearer abc.def');
    expect(JSON.stringify(lines[0])).not.toMatch(/abc123|wbhsec_xyz|abc\.def/);
  });
});
