// Two-factor authentication: enrolment as `npm profile enable-2fa` performs it, one-time password
// checks with replay protection and a per-user limit on wrong codes, recovery codes used once.
import { timingSafeEqual } from 'node:crypto';
import { Refusal, type Params, type ReasonId } from '../domain/reasons.ts';
import type { Decision } from '../domain/policy.ts';
import type { OtpTaken, Principal, TfaMode, User } from '../domain/principal.ts';
import { hashCode, matchStep, newRecoveryCodes, newSecret, otpauthUrl } from '../domain/totp.ts';
import { open, seal } from '../store/secret-box.ts';
import { replaceTfa, setTfa, tfaOf } from '../store/users.ts';
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

/** The state, and its stored text: a write of a consumed code is made only over that text (replaceTfa). */
type Loaded = { state: TfaState; raw: string };

async function loadRaw(ctx: Ctx, userId: number): Promise<Loaded | null> {
  const raw = await tfaOf(ctx.store.db, userId);
  return raw ? { state: JSON.parse(raw) as TfaState, raw } : null;
}

async function load(ctx: Ctx, userId: number): Promise<TfaState | null> {
  return (await loadRaw(ctx, userId))?.state ?? null;
}

async function save(ctx: Ctx, userId: number, state: TfaState | null, invalidate: boolean): Promise<void> {
  // Cached principals carry the 2FA mode: `invalidate` makes every process reload them.
  await setTfa(ctx.store.db, userId, state ? JSON.stringify(state) : null, ctx.clock.now(), invalidate);
}

function sameHash(a: string, b: string): boolean {
  return a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));
}

/** What a code does to the state: accepted (with the state to write), or refused (maybe counted as wrong). */
type Outcome =
  | { ok: true; next: TfaState; recoveryLeft?: number }
  | { ok: false; refusal: Refusal; next?: TfaState; reason?: string }
  | { ok: 'proof' };

/** The answer to a missing code: `otp-required`, or the decision's own (the package's policy asks for it). */
type Missing = { reason: ReasonId; params: Params } | undefined;

async function judge(
  ctx: Ctx,
  userId: number,
  state: TfaState,
  code: string | undefined,
  missing?: Missing,
): Promise<Outcome> {
  const now = ctx.clock.now();
  if (state.failures.count >= MAX_FAILURES && now - state.failures.since < FAILURE_WINDOW_MS)
    return { ok: false, refusal: new Refusal('otp-throttled') };
  if (!code)
    return { ok: false, refusal: missing ? new Refusal(missing.reason, missing.params) : new Refusal('otp-required') };
  const trimmed = code.replace(/\s+/g, '');
  const secret = open(ctx.store.dataDir, state.secret);
  const accepted = { failures: { count: 0, since: now } };
  if (/^\d{6}$/.test(trimmed)) {
    const step = matchStep(secret, trimmed, now);
    if (step !== null && step <= state.lastStep) {
      return { ok: false, refusal: new Refusal('otp-reused'), reason: 'otp-reused' };
    }
    if (step !== null) return { ok: true, next: { ...state, ...accepted, lastStep: step } };
  } else if (/^[0-9a-f]{64}$/i.test(trimmed)) {
    const h = hashCode(trimmed);
    // A proof from the web OTP flow: the browser step already checked a code.
    if (await consumeOtpProof(ctx.store.db, userId, h, now)) return { ok: 'proof' };
    const i = state.recovery.findIndex((r) => sameHash(r, h));
    if (i >= 0) {
      const recovery = state.recovery.filter((_, j) => j !== i);
      return { ok: true, next: { ...state, ...accepted, recovery }, recoveryLeft: recovery.length };
    }
  }
  const fresh = now - state.failures.since >= FAILURE_WINDOW_MS;
  const failures = { count: (fresh ? 0 : state.failures.count) + 1, since: fresh ? now : state.failures.since };
  const refusal = new Refusal(failures.count >= MAX_FAILURES ? 'otp-throttled' : 'otp-wrong');
  return { ok: false, refusal, next: { ...state, failures }, reason: 'otp-wrong' };
}

/**
 * Checks a code (TOTP or recovery) against the state and consumes it, or counts it wrong; throws the refusal
 * that fits. Each write is a compare-and-set over the state as read (store/users.ts replaceTfa): when two
 * requests on any nodes use one code at once, one write wins and the other reads again, and finds a replay.
 * `then` changes the accepted state further in the same write (a mode change; null turns 2FA off).
 */
async function consume(
  ctx: Ctx,
  user: { id: number; name: string },
  first: Loaded,
  code: string | undefined,
  then?: { change: (s: TfaState) => TfaState | null; invalidate: boolean },
  missing?: Missing,
): Promise<OtpTaken | undefined> {
  let loaded: Loaded | null = first;
  let proven = false;
  for (let round = 0; loaded && !loaded.state.pending; round++) {
    if (round > 50) throw new Error('two-factor state kept changing under this request');
    let o = proven ? { ok: true as const, next: loaded.state } : await judge(ctx, user.id, loaded.state, code, missing);
    if (o.ok === 'proof') {
      // The proof is used up: the change that needed it is written, over whatever state is there.
      if (!then) return;
      proven = true;
      o = { ok: true, next: loaded.state };
    }
    const next = o.ok === true && then ? then.change(o.next) : o.next;
    const written =
      next === undefined ||
      (await replaceTfa(
        ctx.store.db,
        user.id,
        loaded.raw,
        next && JSON.stringify(next),
        ctx.clock.now(),
        o.ok === true && !!then?.invalidate,
      ));
    if (!written) {
      loaded = await loadRaw(ctx, user.id);
      continue;
    }
    if (o.ok === true) {
      if (o.recoveryLeft !== undefined)
        await audit(ctx, { event: 'recovery-code-used', user: user.name, detail: { left: o.recoveryLeft } });
      // A plain use of a code can be undone while nothing has changed the state since; a change made with
      // the code (`then`) is the write itself and is never undone.
      const before = loaded.raw;
      const after = next ? JSON.stringify(next) : null;
      if (then || after === null) return;
      return {
        giveBack: async () => {
          await replaceTfa(ctx.store.db, user.id, after, before, ctx.clock.now(), false);
        },
      };
    }
    if (o.reason) await audit(ctx, { event: 'otp-denied', user: user.name, reason: o.reason });
    throw o.refusal;
  }
  // 2FA was turned off, or started again, by another request meanwhile: there is nothing to check any more.
}

/**
 * Verifies the one-time password a decision asks for (principal.otp, from the npm-otp header) and takes it.
 * The code is used up only by a request that is done: the one the principal's request took is kept in
 * `p.otpTaken`, and the HTTP edge gives it back when the request is refused after all (for a missing
 * version, a duplicate name, a last owner…), so the person can retry with the same code (givesBackRefused).
 */
export async function requireSecondFactor(ctx: Ctx, p: Principal, decision: Decision): Promise<void> {
  if (!decision.allowed || !decision.otp || !p.user || p.otpVerified) return;
  const taken = await verifyOtpFor(ctx, p.user, p.otp, decision.otpRefusal);
  if (taken) p.otpTaken?.push(taken);
  // One request may pass several checks (unpublish and deprecate in one PUT): the code is used once.
  p.otpVerified = true;
}

export async function verifyOtpFor(
  ctx: Ctx,
  user: { id: number; name: string },
  code: string | undefined,
  missing?: Missing,
): Promise<OtpTaken | undefined> {
  const loaded = await loadRaw(ctx, user.id);
  if (!loaded || loaded.state.pending) return;
  return consume(ctx, user, loaded, code, undefined, missing);
}

/** Gives back the codes a refused request took: the request changed nothing, so its code must still work for
 *  the retry. A code a later request used meanwhile stays used (the state moved on: replaceTfa's compare). */
export async function giveBackCodes(taken: OtpTaken[] | undefined): Promise<void> {
  for (const t of taken?.splice(0) ?? []) await t.giveBack();
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
  const loaded = await loadRaw(ctx, p.user.id);
  if (loaded && !loaded.state.pending) {
    // Already on: changing the mode is a write that needs the current code, made with the code's own write.
    await consume(ctx, p.user, loaded, p.otp, { change: (s) => ({ ...s, mode }), invalidate: true });
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
  const loaded = await loadRaw(ctx, p.user.id);
  if (!loaded) return;
  const state = loaded.state;
  if (!state.pending) await consume(ctx, p.user, loaded, p.otp, { change: () => null, invalidate: true });
  else await save(ctx, p.user.id, null, true);
  await audit(ctx, { event: state.pending ? 'tfa-enrolment-reset' : 'tfa-disabled', user: p.user.name });
}
