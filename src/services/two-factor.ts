// Two-factor authentication: enrolment as `npm profile enable-2fa` performs it, one-time password
// checks with replay protection and a per-user limit on wrong codes, recovery codes used once.
import { timingSafeEqual } from 'node:crypto';
import { Refusal } from '../domain/reasons.ts';
import type { Decision } from '../domain/policy.ts';
import type { Principal, TfaMode, User } from '../domain/principal.ts';
import { hashCode, matchStep, newRecoveryCodes, newSecret, otpauthUrl } from '../domain/totp.ts';
import { open, seal } from '../store/secret-box.ts';
import { setTfa, tfaOf } from '../store/users.ts';
import { consumeOtpProof } from '../store/web-logins.ts';
import { audit, type Ctx } from './context.ts';

type TfaState = {
  mode: TfaMode;
  pending: boolean;
  secret: string; // sealed
  lastStep: number; // the newest time step already used: codes at or before it are replays
  recovery: string[]; // SHA-256 of unused recovery codes
  failures: { count: number; since: number };
};

const MAX_FAILURES = 5;
const FAILURE_WINDOW_MS = 5 * 60_000;

async function load(ctx: Ctx, userId: number): Promise<TfaState | null> {
  const tfa = await tfaOf(ctx.store.db, userId);
  return tfa ? (JSON.parse(tfa) as TfaState) : null;
}

async function save(ctx: Ctx, userId: number, state: TfaState | null, invalidate: boolean): Promise<void> {
  // Cached principals carry the 2FA mode: `invalidate` makes every process reload them.
  await setTfa(ctx.store.db, userId, state ? JSON.stringify(state) : null, ctx.clock.now(), invalidate);
}

function sameHash(a: string, b: string): boolean {
  return a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));
}

/** Checks a code (TOTP or recovery) against the state and consumes it. Throws the refusal that fits. */
async function consume(
  ctx: Ctx,
  user: { id: number; name: string },
  state: TfaState,
  code: string | undefined,
): Promise<void> {
  const now = ctx.clock.now();
  if (state.failures.count >= MAX_FAILURES && now - state.failures.since < FAILURE_WINDOW_MS)
    throw new Refusal('otp-throttled');
  if (!code) throw new Refusal('otp-required');
  const trimmed = code.replace(/\s+/g, '');
  const secret = open(ctx.store.dataDir, state.secret);
  if (/^\d{6}$/.test(trimmed)) {
    const step = matchStep(secret, trimmed, now);
    if (step !== null && step <= state.lastStep) {
      await audit(ctx, { event: 'otp-denied', user: user.name, reason: 'otp-reused' });
      throw new Refusal('otp-reused');
    }
    if (step !== null) {
      state.lastStep = step;
      state.failures = { count: 0, since: now };
      await save(ctx, user.id, state, false);
      return;
    }
  } else if (/^[0-9a-f]{64}$/i.test(trimmed)) {
    const h = hashCode(trimmed);
    // A proof from the web OTP flow: the browser step already checked a code.
    if (await consumeOtpProof(ctx.store.db, user.id, h, now)) return;
    const i = state.recovery.findIndex((r) => sameHash(r, h));
    if (i >= 0) {
      state.recovery.splice(i, 1);
      state.failures = { count: 0, since: now };
      await save(ctx, user.id, state, false);
      await audit(ctx, { event: 'recovery-code-used', user: user.name, detail: { left: state.recovery.length } });
      return;
    }
  }
  const fresh = now - state.failures.since >= FAILURE_WINDOW_MS;
  state.failures = { count: (fresh ? 0 : state.failures.count) + 1, since: fresh ? now : state.failures.since };
  await save(ctx, user.id, state, false);
  await audit(ctx, { event: 'otp-denied', user: user.name, reason: 'otp-wrong' });
  throw new Refusal(state.failures.count >= MAX_FAILURES ? 'otp-throttled' : 'otp-wrong');
}

/** Verifies the one-time password a decision asks for (principal.otp, from the npm-otp header). */
export async function requireSecondFactor(ctx: Ctx, p: Principal, decision: Decision): Promise<void> {
  if (!decision.allowed || !decision.otp || !p.user || p.otpVerified) return;
  await verifyOtpFor(ctx, p.user, p.otp);
  // One request may pass several checks (unpublish and deprecate in one PUT): the code is used once.
  p.otpVerified = true;
}

export async function verifyOtpFor(
  ctx: Ctx,
  user: { id: number; name: string },
  code: string | undefined,
): Promise<void> {
  const state = await load(ctx, user.id);
  if (!state || state.pending) return;
  await consume(ctx, user, state, code);
}

export type ProfileTfa = false | { mode: TfaMode; pending: boolean };

export async function profileTfa(ctx: Ctx, userId: number): Promise<ProfileTfa> {
  const s = await load(ctx, userId);
  return s ? { mode: s.mode, pending: s.pending } : false;
}

/** Step 1 of enrolment (or a mode change once enrolled): the password has been checked by the caller. */
export async function startEnrolment(
  ctx: Ctx,
  p: Principal & { user: User },
  mode: TfaMode,
): Promise<{ tfa: string | { mode: TfaMode } }> {
  const state = await load(ctx, p.user.id);
  if (state && !state.pending) {
    // Already on: changing the mode is a write that needs the current code.
    await consume(ctx, p.user, state, p.otp);
    state.mode = mode;
    await save(ctx, p.user.id, state, true);
    await audit(ctx, { event: 'tfa-mode-changed', user: p.user.name, detail: { mode } });
    return { tfa: { mode } };
  }
  const secret = newSecret();
  await save(
    ctx,
    p.user.id,
    {
      mode,
      pending: true,
      secret: seal(ctx.store.dataDir, secret),
      lastStep: 0,
      recovery: [],
      failures: { count: 0, since: 0 },
    },
    false,
  );
  await audit(ctx, { event: 'tfa-enrolment-started', user: p.user.name, detail: { mode } });
  return { tfa: otpauthUrl(secret, p.user.name, 'Tessera') };
}

/** Step 2: the first code proves the authenticator works; recovery codes are shown once. */
export async function confirmEnrolment(ctx: Ctx, user: User, code: unknown): Promise<{ tfa: string[] }> {
  const state = await load(ctx, user.id);
  if (!state?.pending) throw new Refusal('tfa-not-pending');
  if (typeof code !== 'string') throw new Refusal('otp-required');
  const step = matchStep(open(ctx.store.dataDir, state.secret), code, ctx.clock.now());
  if (step === null) throw new Refusal('otp-wrong');
  const codes = newRecoveryCodes();
  await save(ctx, user.id, { ...state, pending: false, lastStep: step, recovery: codes.map(hashCode) }, true);
  await audit(ctx, { event: 'tfa-enabled', user: user.name, detail: { mode: state.mode } });
  return { tfa: codes };
}

/** Turning 2FA off: a pending enrolment resets freely; an active one needs a code. */
export async function disable(ctx: Ctx, p: Principal & { user: User }): Promise<void> {
  const state = await load(ctx, p.user.id);
  if (!state) return;
  if (!state.pending) await consume(ctx, p.user, state, p.otp);
  await save(ctx, p.user.id, null, true);
  await audit(ctx, { event: state.pending ? 'tfa-enrolment-reset' : 'tfa-disabled', user: p.user.name });
}
