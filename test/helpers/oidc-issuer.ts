// A local OIDC issuer for trusted-publishing tests: keys generated in the test, discovery and JWKS on
// loopback, and GitHub Actions' id-token endpoint (`ACTIONS_ID_TOKEN_REQUEST_URL`).
import { createServer, type Server } from 'node:http';
import { exportJWK, generateKeyPair, SignJWT, type JWTPayload, type CryptoKey } from 'jose';

export type Issuer = {
  url: string;
  /** Signs an id token with the issuer's key (or another key, or none). */
  sign(
    claims: JWTPayload,
    opts?: {
      key?: CryptoKey;
      kid?: string | null;
      alg?: string;
      expiresIn?: string | number;
      notBefore?: number;
      iss?: string;
    },
  ): Promise<string>;
  /** "METHOD path" of every request the issuer received, to assert what the registry fetched (or did not). */
  requests: string[];
  /** The claims the GitHub token endpoint will put in the next tokens it hands out. */
  githubClaims: JWTPayload;
  /** Audiences the GitHub endpoint was asked for. */
  audiences: string[];
  otherKey: CryptoKey;
  /** Replaces the signing key (new key id); the JWKS then publishes only the new key. */
  rotate(): Promise<void>;
  close(): Promise<void>;
};

export async function startIssuer(): Promise<Issuer> {
  let { privateKey, publicKey } = await generateKeyPair('RS256');
  const other = await generateKeyPair('RS256');
  let kid = 'test-key-1';
  let jwk = { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' };
  let url = '';
  const audiences: string[] = [];
  const requests: string[] = [];
  const issuer: Issuer = {
    get url() {
      return url;
    },
    githubClaims: {},
    audiences,
    requests,
    otherKey: other.privateKey,
    async sign(claims, opts = {}) {
      const now = Math.floor(Date.now() / 1000);
      // kid: null leaves the key id out, as some issuers do.
      const header = { alg: opts.alg ?? 'RS256', typ: 'JWT', ...(opts.kid === null ? {} : { kid: opts.kid ?? kid }) };
      const jwt = new SignJWT({ ...claims })
        .setProtectedHeader(header)
        .setIssuer(opts.iss ?? url)
        .setIssuedAt(now)
        .setExpirationTime(opts.expiresIn ?? '5m');
      if (opts.notBefore !== undefined) jwt.setNotBefore(opts.notBefore);
      return jwt.sign(opts.key ?? privateKey);
    },
    async rotate() {
      ({ privateKey, publicKey } = await generateKeyPair('RS256'));
      kid = `test-key-${Date.now()}`;
      jwk = { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' };
    },
    close: () => new Promise((res) => server.close(() => res())),
  };
  const server: Server = createServer((req, res) => {
    const u = new URL(req.url ?? '/', url);
    requests.push(`${req.method} ${u.pathname}`);
    const json = (code: number, body: unknown) => {
      res.writeHead(code, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    // Discovery at the root, or under a path for issuers such as CircleCI's https://…/org/<org-id>.
    const discovery = '/.well-known/openid-configuration';
    if (u.pathname.endsWith(discovery)) {
      return json(200, { issuer: url + u.pathname.slice(0, -discovery.length), jwks_uri: `${url}/.well-known/jwks` });
    }
    if (u.pathname === '/.well-known/jwks') return json(200, { keys: [jwk] });
    if (u.pathname === '/github/token') {
      if (req.headers.authorization !== 'Bearer runtime-token') return json(401, { message: 'bad runtime token' });
      const aud = u.searchParams.get('audience') ?? '';
      audiences.push(aud);
      void issuer.sign({ aud, ...issuer.githubClaims }).then((value) => json(200, { value }));
      return;
    }
    json(404, {});
  });
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', () => res()));
  const addr = server.address();
  url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  return issuer;
}

/** The environment of a GitHub Actions job whose id-token endpoint is the local issuer. */
export function githubEnv(issuer: Issuer): Record<string, string> {
  return {
    GITHUB_ACTIONS: 'true',
    ACTIONS_ID_TOKEN_REQUEST_URL: `${issuer.url}/github/token?api-version=2.0`,
    ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'runtime-token',
  };
}
