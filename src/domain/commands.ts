// Request bodies as npm 11/12 send them, as route schemas (TypeBox → JSON Schema, checked by Fastify's AJV at
// the edge) and as the typed commands services take. Schemas check shape only: names, versions, ranges and
// permissions stay with the services and the policy. Objects admit properties we do not read (npm adds
// fields over time); where npm sends null for "unset", null is allowed.
import { Type, type Static, type TSchema } from 'typebox';
import type { Grants, TokenKind } from './principal.ts';

const Maybe = <T extends TSchema>(t: T) => Type.Optional(Type.Union([t, Type.Null()]));
const Open = { additionalProperties: true } as const;
/** A list as npm's config gives it: an array, or one comma-separated string. */
const StringList = Type.Union([Type.String(), Type.Array(Type.String())]);
export const PERMISSIONS = ['read-only', 'read-write', 'read-write-stage-only', 'no-access'] as const;

/** POST /-/npm/v1/tokens: `npm token create` (granular) or npm-profile's createToken
 *  ({password, readonly, cidr_whitelist}). Older spellings (`token_description`, `cidr`) are still read. */
export const TokenCreateBody = Type.Object(
  {
    password: Maybe(Type.String()),
    name: Maybe(Type.String()),
    description: Maybe(Type.String()),
    token_description: Maybe(Type.String()),
    readonly: Maybe(Type.Boolean()),
    cidr_whitelist: Maybe(StringList),
    cidr: Maybe(StringList),
    packages: Maybe(StringList),
    packages_all: Maybe(Type.Boolean()),
    scopes: Maybe(StringList),
    orgs: Maybe(StringList),
    packages_and_scopes_permission: Maybe(Type.Enum([...PERMISSIONS])),
    orgs_permission: Maybe(Type.Enum([...PERMISSIONS])),
    /** Days (npm sends parseInt of --expires, so a number or null), a numeric string, or an ISO date. */
    expires: Maybe(Type.Union([Type.Number(), Type.String()])),
    bypass_2fa: Maybe(Type.Boolean()),
  },
  Open,
);
export type TokenCreateBody = Static<typeof TokenCreateBody>;

/** When a new token ends: npm's default for its permission, never (administrators, classic tokens), a number
 *  of days, a duration, or an instant. */
export type TokenExpiry = 'default' | 'never' | { days: number } | { ms: number } | { at: number };

/** One token to create, whoever asks: `npm token create` and `tessera token create` both build this. */
export type TokenSpec = {
  user: string;
  kind: Exclude<TokenKind, 'session' | 'oidc'>;
  name: string | null;
  description: string | null;
  /** Granular tokens only; classic tokens carry none. */
  grants: Grants | null;
  cidr: string[];
  bypass2fa: boolean;
  expires: TokenExpiry;
};

/** An attachment of a publish: the tarball (base64) or a sigstore bundle (JSON text). */
const Attachment = Type.Object(
  {
    content_type: Type.Optional(Type.String()),
    data: Type.String(),
    length: Type.Optional(Type.Number()),
  },
  Open,
);

/** PUT /<pkg>: a publish (one version and its tarball) or a document update (dist-tags, deprecations,
 *  maintainers, stars), as npm sends the whole document. */
export const PublishDoc = Type.Object(
  {
    _id: Type.Optional(Type.String()),
    _rev: Maybe(Type.String()),
    name: Type.Optional(Type.String()),
    versions: Type.Optional(Type.Record(Type.String(), Type.Object({}, Open))),
    'dist-tags': Type.Optional(Type.Record(Type.String(), Type.String())),
    _attachments: Type.Optional(Type.Record(Type.String(), Attachment)),
    access: Maybe(Type.String()),
    maintainers: Type.Optional(
      Type.Array(Type.Object({ name: Type.String(), email: Type.Optional(Type.String()) }, Open)),
    ),
    users: Type.Optional(Type.Record(Type.String(), Type.Boolean())),
  },
  Open,
);
export type PublishDoc = Static<typeof PublishDoc>;

/** PUT /-/user/org.couchdb.user:<name>: npm's legacy login/adduser; the second PUT copies the GET's fields in. */
export const CouchUser = Type.Object(
  {
    _id: Type.Optional(Type.String()),
    _rev: Type.Optional(Type.String()),
    name: Type.Optional(Type.String()),
    password: Type.Optional(Type.String()),
    email: Maybe(Type.String()),
    type: Type.Optional(Type.String()),
    roles: Type.Optional(Type.Array(Type.Unknown())),
    date: Type.Optional(Type.String()),
  },
  Open,
);
export type CouchUser = Static<typeof CouchUser>;

/** POST /-/v1/login: npm-profile sends `{}`; `{create: true}` asks for the sign-up page. */
export const WebLoginStart = Type.Object({ create: Type.Optional(Type.Boolean()) }, Open);
export type WebLoginStart = Static<typeof WebLoginStart>;

/** The browser's login/sign-up/OTP form (url-encoded): one value per field. */
export const WebLoginForm = Type.Object(
  {
    name: Type.Optional(Type.String()),
    password: Type.Optional(Type.String()),
    email: Type.Optional(Type.String()),
    otp: Type.Optional(Type.String()),
  },
  Open,
);
export type WebLoginForm = Static<typeof WebLoginForm>;

/** POST /-/npm/v1/user: `npm profile set` (null clears a field) and `npm profile enable-2fa|disable-2fa`. */
export const ProfileUpdate = Type.Object(
  {
    email: Maybe(Type.String()),
    password: Maybe(Type.Object({ old: Maybe(Type.String()), new: Maybe(Type.String()) }, Open)),
    /** `{mode, password}` to start or disable 2FA; `[otp]` to confirm an enrolment. */
    tfa: Maybe(
      Type.Union([
        Type.Object({ mode: Type.Optional(Type.String()), password: Maybe(Type.String()) }, Open),
        Type.Array(Type.String()),
      ]),
    ),
    fullname: Maybe(Type.String()),
    homepage: Maybe(Type.String()),
    freenode: Maybe(Type.String()),
    twitter: Maybe(Type.String()),
    github: Maybe(Type.String()),
  },
  Open,
);
export type ProfileUpdate = Static<typeof ProfileUpdate>;

/** POST /-/package/<pkg>/access: `npm access set status=…` and `npm access set mfa=…`. */
export const AccessSet = Type.Object(
  {
    access: Type.Optional(Type.String()),
    publish_requires_tfa: Type.Optional(Type.Boolean()),
    automation_token_overrides_tfa: Type.Optional(Type.Boolean()),
  },
  Open,
);
export type AccessSet = Static<typeof AccessSet>;

/** PUT/DELETE /-/org/<org>/user: `npm org set|rm`. */
export const OrgMember = Type.Object({ user: Type.String(), role: Type.Optional(Type.String()) }, Open);
export type OrgMember = Static<typeof OrgMember>;

/** PUT /-/org/<org>/team: `npm team create`. */
export const TeamCreate = Type.Object({ name: Type.String(), description: Maybe(Type.String()) }, Open);
export type TeamCreate = Static<typeof TeamCreate>;

/** PUT/DELETE /-/team/<org>/<team>/user: `npm team add|rm`. */
export const TeamMember = Type.Object({ user: Type.String() }, Open);
export type TeamMember = Static<typeof TeamMember>;

/** PUT/DELETE /-/team/<org>/<team>/package: `npm access grant|revoke`. */
export const TeamGrant = Type.Object({ package: Type.String(), permissions: Type.Optional(Type.String()) }, Open);
export type TeamGrant = Static<typeof TeamGrant>;

/** A claim rule: an exact string, a list the claim must contain, or `{file}` inside a ref claim. */
const ClaimRule = Type.Union([Type.String(), Type.Array(Type.String()), Type.Object({ file: Type.String() }, Open)]);
const TrustConfigIn = Type.Object(
  {
    type: Type.String(),
    issuer: Maybe(Type.String()),
    claims: Type.Record(Type.String(), ClaimRule),
    permissions: Type.Array(Type.String()),
  },
  Open,
);
/** POST /-/package/<pkg>/trust: `npm trust github|gitlab|circleci` sends one configuration or a list. */
export const TrustBody = Type.Union([TrustConfigIn, Type.Array(TrustConfigIn)]);
export type TrustBody = Static<typeof TrustBody>;

/** PUT /-/package/<pkg>/dist-tags/<tag>: the version, as a JSON string. */
export const DistTagBody = Type.String();

/** POST /-/stage/package/<pkg>: the same document as a publish. */
export const StageDoc = PublishDoc;

/** GET /-/tessera/v1/email/verify/<token>: the link's secret. */
export const EmailVerifyParams = Type.Object({ token: Type.String({ minLength: 1, maxLength: 200 }) });

const Digits = Type.String({ pattern: '^[0-9]{1,9}$' });
/** GET /-/npm/v1/tokens?page=&perPage= */
export const TokenListQuery = Type.Object({ page: Type.Optional(Digits), perPage: Type.Optional(Digits) }, Open);
/** GET /-/v1/search?text=&size=&from= */
export const SearchQuery = Type.Object(
  {
    text: Type.Optional(Type.String()),
    size: Type.Optional(Digits),
    from: Type.Optional(Digits),
  },
  Open,
);
/** GET /-/tessera/v1/auth/explain?action=&package= */
export const ExplainQuery = Type.Object(
  {
    action: Type.Optional(Type.String()),
    package: Type.Optional(Type.String()),
  },
  Open,
);

/** POST /-/npm/v1/hooks/hook (libnpmhook's add): what to watch, where to post, the shared secret. */
export const HookCreateBody = Type.Object(
  {
    type: Type.Enum(['package', 'scope', 'owner']),
    name: Type.String({ minLength: 1, maxLength: 214 }),
    endpoint: Type.String({ minLength: 1, maxLength: 2048 }),
    secret: Type.String({ minLength: 1, maxLength: 1024 }),
  },
  Open,
);
export type HookCreateBody = Static<typeof HookCreateBody>;
/** PUT /-/npm/v1/hooks/hook/<id> (libnpmhook's update): a new endpoint, and a new secret if one is given. */
export const HookUpdateBody = Type.Object(
  {
    endpoint: Type.String({ minLength: 1, maxLength: 2048 }),
    secret: Maybe(Type.String({ minLength: 1, maxLength: 1024 })),
  },
  Open,
);
export type HookUpdateBody = Static<typeof HookUpdateBody>;
/** GET /-/npm/v1/hooks?package=&limit=&offset= (libnpmhook's ls). */
export const HookListQuery = Type.Object(
  {
    package: Type.Optional(Type.String({ maxLength: 214 })),
    limit: Type.Optional(Digits),
    offset: Type.Optional(Digits),
  },
  Open,
);
export const HookParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });
