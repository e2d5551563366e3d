// Who is calling, as resolved once per request by the HTTP edge. Pure data.

export type User = {
  id: number;
  name: string;
  email: string;
  admin: boolean;
  emailVerified: boolean;
  /** Two-factor mode once enrolment is confirmed; null when off or still pending. */
  tfa: TfaMode | null;
};

export type TfaMode = 'auth-only' | 'auth-and-writes';

export type TokenKind =
  | 'session'
  | 'granular'
  | 'classic-readonly'
  | 'classic-automation'
  | 'classic-publish'
  | 'oidc'
  | 'web-session';

/** Interactive sign-ins: `npm login` sessions and the web pages' own cookie sessions (never sent by npm). */
export const SESSION_KINDS: readonly TokenKind[] = ['session', 'web-session'];

/** `read-write-stage-only` may publish only through staging (npm stage publish), never directly. */
export type Permission = 'read-only' | 'read-write' | 'read-write-stage-only' | 'no-access';

/** What a granular token is limited to. Other kinds carry no grants: they act with the user's rights. */
export type Grants = {
  packagesAll: boolean;
  packages: string[];
  scopes: string[];
  permission: Permission;
  orgs: string[];
  orgsPermission: Permission;
  /** Set on tokens minted by an OIDC exchange: what the package's trust configuration allows. */
  trust?: { configId: string; permissions: string[]; subject: string };
};

export type Credential =
  | {
      type: 'token';
      id: string;
      kind: TokenKind;
      readonly: boolean;
      grants: Grants | null;
      bypass2fa: boolean;
      expiresAt: number | null;
    }
  | { type: 'password' };

export type Principal =
  | { user: null }
  | {
      user: User;
      credential: Credential;
      otp?: string;
      webAuth?: boolean;
      otpVerified?: boolean;
      /** The codes this request has taken (services/two-factor.ts), one list shared by every copy of the
       *  principal, so the HTTP edge can give them back when the request is refused after all. */
      otpTaken?: OtpTaken[];
    };

/** A one-time password a request used up, and how to make it usable again. */
export type OtpTaken = { giveBack: () => Promise<void> };

export const anonymous: Principal = { user: null };

/** The id of the token the caller authenticated with, if it was a token. */
export function tokenIdOf(p: Readonly<Principal> | undefined): string | undefined {
  return p?.user && p.credential.type === 'token' ? p.credential.id : undefined;
}
