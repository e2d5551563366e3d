// E-mail verification: a link with a one-time token (only its digest is stored), delivered by SMTP,
// or written to <data>/outbox/ when no SMTP server is configured, so one machine still works.
import { randomBytes, createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import nodemailer from 'nodemailer';
import { Refusal } from '../domain/reasons.ts';
import { bumpRevocations } from '../store/tokens.ts';
import { confirmVerification, replaceVerification, verificationById } from '../store/email-verifications.ts';
import { markEmailVerified } from '../store/users.ts';
import { audit, type Ctx } from './context.ts';

const digest = (t: string) => createHash('sha256').update(t).digest('hex');

export type Sent = { via: 'smtp' | 'outbox'; path?: string; link: string };

/**
 * Links go to `publicUrl` only: a request's Host header is the caller's to choose, and a link built from
 * it would carry the one-time token to whatever host the caller named.
 */
export async function sendVerification(ctx: Ctx, user: { id: number; name: string; email: string }): Promise<Sent> {
  if (!ctx.config.publicUrl) throw new Refusal('email-link-unavailable');
  const base = ctx.config.publicUrl.replace(/\/+$/, '');
  const token = randomBytes(24).toString('base64url');
  const now = ctx.clock.now();
  await replaceVerification(ctx.store.db, {
    id: digest(token),
    user_id: user.id,
    email: user.email,
    created_at: now,
    expires_at: now + ctx.config.email.linkTtlMs,
  });
  const link = `${base}/-/tessera/v1/email/verify/${token}`;
  const message = {
    from: ctx.config.email.from,
    to: user.email,
    subject: 'Verify your e-mail address for Tessera',
    text:
      `Hello ${user.name},\n\nto verify ${user.email} for your Tessera account, open this link:\n\n${link}\n\n` +
      `It works once and expires on ${new Date(now + ctx.config.email.linkTtlMs).toISOString()}.\n`,
  };
  const smtp = ctx.config.email.smtp;
  if (smtp) {
    const transport = nodemailer.createTransport({
      host: smtp.host,
      port: smtp.port,
      secure: smtp.secure,
      auth: smtp.user ? { user: smtp.user, pass: smtp.password ?? '' } : undefined,
    });
    await transport.sendMail(message);
    await audit(ctx, { event: 'email-verification-sent', user: user.name, detail: { via: 'smtp' } });
    return { via: 'smtp', link };
  }
  const dir = join(ctx.store.dataDir, 'outbox');
  await mkdir(dir, { recursive: true });
  const path = join(
    dir,
    `${new Date(now).toISOString().replace(/[:.]/g, '-')}-${user.name}-${randomBytes(3).toString('hex')}.eml`,
  );
  const eml =
    `From: ${message.from}\nTo: ${message.to}\nSubject: ${message.subject}\nDate: ${new Date(now).toUTCString()}\n` +
    `Content-Type: text/plain; charset=utf-8\n\n${message.text}`;
  await writeFile(path, eml, { mode: 0o600 });
  await audit(ctx, { event: 'email-verification-sent', user: user.name, detail: { via: 'outbox', path } });
  return { via: 'outbox', path, link };
}

/** Following the link: verifies the address it was sent to, if it is still the account's address. */
export async function verifyEmail(ctx: Ctx, token: string): Promise<string> {
  const row = await verificationById(ctx.store.db, digest(token));
  if (!row || row.expires_at <= ctx.clock.now() || row.email !== row.current)
    throw new Refusal('invalid-request', { detail: 'This verification link is unknown, used or expired' });
  await confirmVerification(ctx.store.db, row.id, row.uid);
  await audit(ctx, { event: 'email-verified', user: row.name });
  return row.name;
}

export async function markVerified(ctx: Ctx, name: string): Promise<void> {
  if ((await markEmailVerified(ctx.store.db, { name })) === 0) throw new Refusal('unknown-user', { name });
  await bumpRevocations(ctx.store.db);
  await audit(ctx, { event: 'email-verified', user: name, detail: { by: 'admin' } });
}
