// A real OpenID provider for ShipBot's sign-in tests: the npm package oidc-provider with its
// development interactions (a real login page and consent page), on loopback.
// Arguments: <port> <redirect uri> <accounts JSON: { sub: { email, email_verified, name, groups } }>
import Provider from 'oidc-provider';

const [port, redirectUri, accountsJson] = process.argv.slice(2);
const accounts = JSON.parse(accountsJson);
const issuer = `http://127.0.0.1:${port}`;

const provider = new Provider(issuer, {
  clients: [{
    client_id: 'shipbot',
    token_endpoint_auth_method: 'none', // a public client: the code is bound to PKCE
    redirect_uris: [redirectUri],
    response_types: ['code'],
    grant_types: ['authorization_code'],
  }],
  pkce: { required: () => true },
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name'],
    groups: ['groups'],
  },
  features: { devInteractions: { enabled: true } },
  cookies: { keys: ['shipbot-test-cookie-key-not-a-secret'] },
  async findAccount(ctx, sub) {
    const known = accounts[sub];
    if (!known) return undefined;
    return { accountId: sub, async claims() { return { sub, ...known }; } };
  },
});
provider.proxy = false;
provider.listen(Number(port), '127.0.0.1', () => console.log(`oidc-provider listening on ${issuer}`));
