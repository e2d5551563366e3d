// What a Tessera answers about credentials, in one place: the routes and services build these shapes and the
// doctor reads them (src/doctor/probes.ts, reasons.ts). The doctor reads them leniently (an older Tessera may
// lack fields), so it takes Partial<…> of these; a test checks the routes' real answers against the schemas.
import { Type, type Static } from 'typebox';

const Iso = Type.Union([Type.String(), Type.Null()]);
const Strict = { additionalProperties: false } as const;

/** A token as `npm token list` and /-/tessera/v1/token present it: redacted, with its limits. */
export const TokenMeta = Type.Object(
  {
    key: Type.String(),
    /** Redacted prefix, e.g. `tsr_abcd`. */
    token: Type.String(),
    /** `session`, `granular`, `classic-…` or `oidc`. */
    type: Type.String(),
    name: Type.Union([Type.String(), Type.Null()]),
    description: Type.Union([Type.String(), Type.Null()]),
    readonly: Type.Boolean(),
    cidr_whitelist: Type.Union([Type.Array(Type.String()), Type.Null()]),
    bypass_2fa: Type.Boolean(),
    created: Iso,
    updated: Iso,
    accessed: Iso,
    expires: Iso,
    /** The same instant as `expires`, under the name npm 11's token list prints. */
    expiry: Iso,
    revoked: Iso,
    packages_all: Type.Boolean(),
    packages: Type.Array(Type.String()),
    scopes: Type.Array(Type.String()),
    orgs: Type.Array(Type.String()),
    permissions: Type.Array(Type.Object({ name: Type.String(), action: Type.String() }, Strict)),
  },
  Strict,
);
export type TokenMeta = Static<typeof TokenMeta>;

/** GET /-/tessera/v1/token: the caller's own credential. */
export const TokenSelf = Type.Object(
  {
    user: Type.String(),
    /** The token's kind, or `password` for Basic auth. */
    credential: Type.String(),
    token: Type.Union([TokenMeta, Type.Null()]),
  },
  Strict,
);
export type TokenSelf = Static<typeof TokenSelf>;

/** GET /-/npm/v1/tokens: one page of `npm token list`. */
export const TokenList = Type.Object(
  {
    objects: Type.Array(TokenMeta),
    total: Type.Number(),
    urls: Type.Object({ next: Type.Union([Type.String(), Type.Null()]) }, Strict),
  },
  Strict,
);
export type TokenList = Static<typeof TokenList>;

/** One check of a policy decision, as auth/explain lists them. */
export const Check = Type.Object({ check: Type.String(), ok: Type.Boolean(), detail: Type.String() }, Strict);

/** GET /-/tessera/v1/auth/explain: would this credential be allowed `action`, and which checks decide it. */
export const Explanation = Type.Object(
  {
    allowed: Type.Boolean(),
    /** The reason id of the refusal (src/domain/reasons.ts), null when allowed. */
    reason: Type.Union([Type.String(), Type.Null()]),
    /** Allowed, but only with a one-time password. */
    otp: Type.Boolean(),
    message: Type.String(),
    credential: Type.Object(
      {
        user: Type.Union([Type.String(), Type.Null()]),
        kind: Type.String(),
        expires: Iso,
      },
      Strict,
    ),
    checks: Type.Array(Check),
  },
  Strict,
);
export type Explanation = Static<typeof Explanation>;
