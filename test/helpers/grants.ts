// What a granular token is limited to, as tests spell it: nothing unless told (`npm token create` with no
// --packages, --scopes or --orgs), read-write on what is listed.
import type { Grants } from '../../src/domain/principal.ts';

/** A granular token's grants: no package, scope or org but those in `g`; packages read-write, orgs no-access. */
export const grants = (g: Partial<Grants> = {}): Grants => ({
  packagesAll: false,
  packages: [],
  scopes: [],
  permission: 'read-write',
  orgs: [],
  orgsPermission: 'no-access',
  ...g,
});
