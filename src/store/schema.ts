// Table shapes, as Kysely sees them. Times are epoch milliseconds; JSON columns hold text.
import type { Generated } from 'kysely';

export type UserRow = {
  id: Generated<number>;
  name: string;
  email: string;
  email_verified: number;
  password_hash: string | null;
  admin: number;
  disabled: number;
  tfa: string | null;
  created_at: number;
  updated_at: number;
  profile: Generated<string | null>;
};

export type TokenRow = {
  id: string;
  user_id: number;
  hash: string;
  kind: string;
  name: string | null;
  description: string | null;
  display: string;
  readonly: number;
  grants: string | null;
  cidr: string | null;
  bypass_2fa: number;
  created_at: number;
  expires_at: number | null;
  revoked_at: number | null;
  revoked_why: string | null;
  last_used_at: number | null;
};

export type PackageRow = {
  name: string;
  scope: string | null;
  access: string;
  origin: string;
  rev: number;
  created_at: number;
  modified_at: number;
  deleted_at: number | null;
  etag: string;
  fetched_at: number | null;
  mfa: Generated<string>;
  meta: string | null;
};

export type PackumentRow = { name: string; doc: string; abbrev: string; readme: string | null; layout?: string | null };

/** Consecutive versions' text of a local package's documents (domain/packument.ts Chunk). */
export type PackumentChunkRow = { name: string; seq: number; doc: string; abbrev: string; versions: string };

export type VersionRow = {
  package: string;
  version: string;
  manifest: string;
  integrity: string;
  shasum: string;
  size: number;
  blob: string;
  published_by: number | null;
  published_at: number;
  unpublished_at: number | null;
  deprecated: string | null;
};

export type DistTagRow = { package: string; tag: string; version: string };
export type MaintainerRow = { package: string; user_id: number };
export type StarRow = { package: string; user_id: number };
export type AttachmentRow = { package: string; version: string; name: string; content_type: string; data: string };

export type WebLoginRow = {
  id: string;
  user_id: number | null;
  kind: string;
  created_at: number;
  expires_at: number;
  proof: string | null;
};

export type AuditRow = {
  id: Generated<number>;
  at: number;
  event: string;
  user_name: string | null;
  token_id: string | null;
  reason: string | null;
  detail: string | null;
};

export type MetaRow = { key: string; value: string };
export type OrgRow = { name: string; created_at: number };
export type OrgMemberRow = { org: string; user_id: number; role: string };
export type TeamRow = { org: string; name: string; description: string | null; created_at: number };
export type TeamMemberRow = { org: string; team: string; user_id: number };
export type TeamPackageRow = { org: string; team: string; package: string; permission: string };
export type TrustConfigRow = {
  id: string;
  package: string;
  type: string;
  issuer: string | null;
  claims: string;
  permissions: string;
  created_by: number;
  created_at: number;
};
/** A version number a local package has used: `published` (in versions) or `staged` (in staged). */
export type VersionClaimRow = { package: string; version: string; state: 'published' | 'staged' };
export type StagedRow = {
  id: string;
  package: string;
  version: string;
  tag: string;
  access: string | null;
  manifest: string;
  integrity: string;
  shasum: string;
  size: number;
  blob: string;
  provenance: string | null;
  actor: string;
  actor_type: string;
  staged_by: number | null;
  created_at: number;
};
/** A version as the web pages show it: its README as sanitized HTML and its files as JSON [path, size][]. */
export type VersionViewRow = { package: string; version: string; readme_html: string; files: string };
/** An account made by an LDAP sign-in (services/ldap-sign-in.ts). */
export type LdapAccountRow = { user_id: number; dn: string; synced_at: number; removed_at: number | null };
export type EmailVerificationRow = {
  id: string;
  user_id: number;
  email: string;
  created_at: number;
  expires_at: number;
};

export type HookDeliveryRow = {
  id: Generated<number>;
  hook: string;
  package: string;
  event: string;
  delivery: string;
  payload: string;
  state: 'pending' | 'failed';
  attempts: number;
  next_at: number;
  created_at: number;
  last_error: string | null;
};

/** A hook made over the API; `secret` is sealed (secret-box.ts), `response_code` 0 until a delivery. */
export type HookRow = {
  id: string;
  user_id: number;
  type: 'package' | 'scope' | 'owner';
  name: string;
  endpoint: string;
  secret: string;
  created_at: number;
  updated_at: number;
  last_delivery: number | null;
  response_code: number | null;
};

export type Database = {
  users: UserRow;
  tokens: TokenRow;
  packages: PackageRow;
  packuments: PackumentRow;
  packument_chunks: PackumentChunkRow;
  versions: VersionRow;
  dist_tags: DistTagRow;
  maintainers: MaintainerRow;
  stars: StarRow;
  attachments: AttachmentRow;
  web_logins: WebLoginRow;
  sso_identities: SsoIdentityRow;
  directory_removals: DirectoryRemovalRow;
  audit: AuditRow;
  meta: MetaRow;
  orgs: OrgRow;
  org_members: OrgMemberRow;
  teams: TeamRow;
  team_members: TeamMemberRow;
  team_packages: TeamPackageRow;
  email_verifications: EmailVerificationRow;
  trust_configs: TrustConfigRow;
  version_claims: VersionClaimRow;
  staged: StagedRow;
  version_views: VersionViewRow;
  hook_deliveries: HookDeliveryRow;
  ldap_accounts: LdapAccountRow;
  hooks: HookRow;
  login_throttles: LoginThrottleRow;
  leases: LeaseRow;
};
/** Login attempts counted in a window, per `a:<address>` or `u:<user>` (store/login-throttles.ts). */
export type LoginThrottleRow = { key: string; count: number; since: number };
/** Who runs a periodic job until when (store/leases.ts). */
export type LeaseRow = { name: string; holder: string; until: number };
export type SsoIdentityRow = {
  user_id: number;
  issuer: string;
  subject: string;
  refresh_token: string | null;
  groups: string;
  signed_in_at: number;
  refreshed_at: number | null;
};
/** A membership a company directory took away (services/directory-groups.ts); team '' is the whole org. */
export type DirectoryRemovalRow = { user_id: number; org: string; team: string; source: string; at: number };
