// A real OpenID Provider for the tests: the certified `oidc-provider` package on 127.0.0.1:0, with its own
// users (password checked on its own sign-in page), groups, and the `amr` a sign-in with a second factor
// earns. Consent is granted without a page. Users and groups are changed by the test between refreshes.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair } from 'jose';
import Provider from 'oidc-provider';
import type { Page } from 'playwright-core';
import type { AuthConfig } from '../../src/config/config.ts';
import { startServer, type TestServer } from './server.ts';
import { launch, type TestBrowser } from './browser.ts';

export type DirectoryUser = {
  password: string;
  email: string;
  emailVerified?: boolean;
  groups: string[];
  name?: string;
  /** The provider asks this user for a second factor: its ID tokens say amr ["pwd", "otp"]. */
  mfa?: boolean;
};

export type TestProvider = {
  issuer: string;
  clientId: string;
  clientSecret: string;
  users: Map<string, DirectoryUser>;
  /** A network attacker between browser and provider: rewrites a request's URL, or a redirect's Location;
   *  each returns whether it changed something (the test asserts it did). */
  tamper: { request?: (u: URL) => boolean; location?: (u: URL) => boolean };
  /** An outage of the provider's back channel: a path (e.g. `/token`, `/jwks`) answers this status, drops the
   *  connection (`reset`), or never answers (`hang`); the browser's pages keep working. */
  fault: Map<string, number | 'reset' | 'hang'>;
  /** Registers the relying party's redirect URI (known once Tessera listens). */
  allowRedirect(uri: string): void;
  close(): Promise<void>;
};

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  return new Promise((resolve, reject) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => {
      body += c;
    });
    req.on('end', () => resolve(new URLSearchParams(body)));
    req.on('error', reject);
  });
}

export async function startProvider(opts: { name?: string } = {}): Promise<TestProvider> {
  const users = new Map<string, DirectoryUser>();
  const redirects: string[] = [];
  const clientId = 'tessera';
  const clientSecret = 'tessera-client-secret-for-tests';
  let provider: Provider | undefined;
  const server = createServer((req, res) => {
    void route(req, res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const jwk = { ...(await exportJWK(privateKey)), alg: 'RS256', use: 'sig', kid: 'test-key' };

  function build(): Provider {
    return new Provider(issuer, {
      clients: [
        {
          client_id: clientId,
          client_secret: clientSecret,
          redirect_uris: [...redirects],
          grant_types: ['authorization_code', 'refresh_token'],
          response_types: ['code'],
        },
      ],
      jwks: { keys: [jwk] },
      cookies: { keys: ['oidc-provider test cookie key'] },
      scopes: ['openid', 'offline_access', 'profile', 'email', 'groups'],
      claims: {
        // amr in every ID token, as Okta, Entra and Keycloak send it (the registry's trustMfa reads it).
        openid: ['sub', 'amr'],
        profile: ['preferred_username', 'name'],
        email: ['email', 'email_verified'],
        groups: ['groups'],
      },
      features: { devInteractions: { enabled: false } },
      interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
      findAccount: async (_ctx, sub) => {
        const u = users.get(sub);
        if (!u) return undefined;
        return {
          accountId: sub,
          claims: async () => ({
            sub,
            preferred_username: sub,
            name: u.name ?? sub,
            email: u.email,
            email_verified: u.emailVerified ?? true,
            groups: [...u.groups],
          }),
        };
      },
      ttl: {
        AccessToken: 600,
        AuthorizationCode: 60,
        IdToken: 600,
        RefreshToken: 86_400,
        Grant: 86_400,
        Interaction: 600,
        Session: 86_400,
      },
    });
  }

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      provider ??= build();
      const fault = api.fault.get(new URL(req.url ?? '/', issuer).pathname);
      if (fault === 'reset') return void req.socket.destroy();
      if (fault === 'hang') return;
      if (fault) return void res.writeHead(fault, { 'content-type': 'text/html' }).end('<h1>Service Unavailable</h1>');
      const t = api.tamper;
      if (t.request) {
        const u = new URL(req.url ?? '/', issuer);
        if (t.request(u)) req.url = u.pathname + u.search;
      }
      if (t.location) {
        const set = res.setHeader.bind(res);
        res.setHeader = (name: string, value: number | string | readonly string[]) => {
          if (name.toLowerCase() !== 'location') return set(name, value);
          const u = new URL(String(value), issuer);
          return set(name, t.location!(u) ? u.href : value);
        };
      }
      const m = /^\/interaction\/([\w-]+)(\/login|\/abort)?$/.exec(new URL(req.url ?? '/', issuer).pathname);
      if (!m) {
        provider.callback()(req, res);
        return;
      }
      const details = await provider.interactionDetails(req, res);
      if (details.prompt.name === 'consent') {
        // The relying party is the company's own: consent is given without asking.
        const grant = details.grantId
          ? await provider.Grant.find(details.grantId)
          : new provider.Grant({ accountId: details.session?.accountId, clientId });
        const missing = details.prompt.details as { missingOIDCScope?: string[]; missingOIDCClaims?: string[] };
        grant!.addOIDCScope((missing.missingOIDCScope ?? String(details.params.scope).split(' ')).join(' '));
        if (missing.missingOIDCClaims) grant!.addOIDCClaims(missing.missingOIDCClaims);
        await provider.interactionFinished(
          req,
          res,
          { consent: { grantId: await grant!.save() } },
          { mergeWithLastSubmission: true },
        );
        return;
      }
      if (req.method === 'POST' && m[2] === '/abort') {
        await provider.interactionFinished(
          req,
          res,
          { error: 'access_denied', error_description: 'the user cancelled' },
          { mergeWithLastSubmission: false },
        );
        return;
      }
      if (req.method === 'POST' && m[2]) {
        const form = await readForm(req);
        const login = form.get('username') ?? '';
        const u = users.get(login);
        if (!u || u.password !== form.get('password')) {
          res.writeHead(401, { 'content-type': 'text/html' }).end(page(m[1], 'Wrong username or password'));
          return;
        }
        await provider.interactionFinished(
          req,
          res,
          {
            login: { accountId: login, amr: u.mfa ? ['pwd', 'otp'] : ['pwd'] },
          },
          { mergeWithLastSubmission: false },
        );
        return;
      }
      res.writeHead(200, { 'content-type': 'text/html' }).end(page(m[1]));
    } catch (err) {
      res.writeHead(500, { 'content-type': 'text/plain' }).end(String((err as Error).stack));
    }
  }

  const page = (uid: string, error?: string) => `<!doctype html><html lang="en">
<head><title>${esc(opts.name ?? 'Acme SSO')}</title></head><body><main><h1>${esc(opts.name ?? 'Acme SSO')}</h1>${error ? `<p role="alert">${esc(error)}</p>` : ''}
<form method="post" action="/interaction/${uid}/login"><label for="u">Company username</label><input id="u" name="username">
<label for="p">Company password</label><input id="p" name="password" type="password">
<button type="submit">Continue</button></form>
<form method="post" action="/interaction/${uid}/abort"><button type="submit">Cancel</button></form></main></body></html>`;

  const api: TestProvider = {
    issuer,
    clientId,
    clientSecret,
    users,
    tamper: {},
    fault: new Map(),
    allowRedirect(uri) {
      redirects.push(uri);
      provider = undefined;
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
  return api;
}

/** The `auth` of a registry whose company sign-in is this provider: directory accounts only unless `local`. */
export function oidcAuth(
  op: TestProvider,
  o: { issuer?: string; local?: boolean; groups?: AuthConfig['groups']; timeoutMs?: number } = {},
): AuthConfig {
  return {
    local: o.local ?? false,
    groups: o.groups ?? {},
    ldap: null,
    oidc: {
      issuer: o.issuer ?? op.issuer,
      clientId: op.clientId,
      clientSecret: op.clientSecret,
      scopes: 'openid profile email groups offline_access',
      userClaim: 'preferred_username',
      groupsClaim: 'groups',
      trustMfa: false,
      name: 'Acme SSO',
      refreshIntervalMs: 3_600_000,
      ...(o.timeoutMs === undefined ? {} : { timeoutMs: o.timeoutMs }),
    },
  };
}

/** Fills in and sends the provider's own sign-in page. */
export async function signInAtProvider(page: Page, user: string, password: string): Promise<void> {
  await page.getByLabel('Company username').fill(user);
  await page.getByLabel('Company password').fill(password);
  await page.getByRole('button', { name: 'Continue' }).click();
}

/** From a registry page with the "Sign in with Acme SSO" link (oidcAuth's name): the link, the provider's form. */
export async function companySignIn(page: Page, user: string, password: string): Promise<void> {
  await page.getByRole('link', { name: 'Sign in with Acme SSO' }).click();
  await signInAtProvider(page, user, password);
}

/** A provider with `users`, a registry whose company sign-in it is (`auth(op)`: oidcAuth's unless given), and
 *  Chromium: what the browser tests of the company sign-in start with. `close` stops all three. */
export async function startCompanySignIn(
  users: Record<string, DirectoryUser>,
  auth: (op: TestProvider) => AuthConfig = (op) => oidcAuth(op),
): Promise<{ op: TestProvider; s: TestServer; b: TestBrowser; close(): Promise<void> }> {
  const op = await startProvider();
  for (const [name, user] of Object.entries(users)) op.users.set(name, user);
  const s = await startServer({ auth: auth(op) }).catch(async (e) => {
    await op.close();
    throw e;
  });
  op.allowRedirect(`${s.url}-/signin/oidc/callback`);
  const b = await launch().catch(async (e) => {
    await s.close();
    await op.close();
    throw e;
  });
  const close = async () => {
    await b.close();
    await s.close();
    await op.close();
  };
  return { op, s, b, close };
}
