import { createHmac } from 'node:crypto';

/**
 * `Persona-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "t.body")>`, one set per live
 * secret separated by a space (Persona sends two during a secret rotation).
 */
export function personaSignature(
  body: string | Buffer,
  secrets: readonly string[],
  t: number,
): string {
  return secrets
    .map((secret) => {
      const mac = createHmac('sha256', secret).update(`${t}.`).update(body).digest('hex');
      return `t=${t},v1=${mac}`;
    })
    .join(' ');
}
