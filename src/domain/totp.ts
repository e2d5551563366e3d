// TOTP (RFC 6238) through `otpauth`: 6 digits, 30-second steps, one step of clock drift either way.
import * as OTPAuth from 'otpauth';
import { createHash, randomBytes } from 'node:crypto';

const PERIOD = 30;

export function newSecret(): string {
  return new OTPAuth.Secret({ size: 20 }).base32;
}

export function otpauthUrl(secret: string, account: string, issuer: string): string {
  return new OTPAuth.TOTP({
    issuer,
    label: account,
    secret: OTPAuth.Secret.fromBase32(secret),
    period: PERIOD,
  }).toString();
}

/** The time step a code belongs to, or null when it matches none within the window. */
export function matchStep(secret: string, code: string, nowMs: number): number | null {
  const totp = new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(secret), period: PERIOD });
  const delta = totp.validate({ token: code.replace(/\s+/g, ''), timestamp: nowMs, window: 1 });
  return delta === null ? null : Math.floor(nowMs / 1000 / PERIOD) + delta;
}

/** For tests and tools: the code for a moment. */
export function codeAt(secret: string, nowMs: number): string {
  return new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(secret), period: PERIOD }).generate({ timestamp: nowMs });
}

/** Recovery codes: 64 hex characters, the form npm's OTP prompt accepts besides digits. */
export function newRecoveryCodes(n = 8): string[] {
  return Array.from({ length: n }, () => randomBytes(32).toString('hex'));
}

export function hashCode(code: string): string {
  return createHash('sha256').update(code.toLowerCase()).digest('hex');
}
