// A throwaway OIDC provider (npm `oidc-provider`) for tests/integration/test_client_device.py:
// RFC 8628 device flow for the public client "gatehouse-cli" (device_code + refresh_token, no
// client authentication), revocation and introspection, one account checked by password.
//
//   node oidc_provider.mjs '{"user":"alice","password":"...","deviceTtl":600,
//                            "interval":null,"minPollGap":0}'
//
// Prints "listening http://127.0.0.1:PORT" once it serves. The built-in dev interactions (which
// accept any login) are off; /interaction/:uid below checks the password and grants consent.
//
// oidc-provider 9 neither advertises `interval` nor ever answers `slow_down`. For the tests of
// those RFC 8628 §3.5 paths, two options wrap it: `interval` adds that member to the device
// authorization response, and `minPollGap` (seconds) answers `slow_down` to a device_code poll
// that comes sooner than that after the previous one (or after the code was issued). Every poll
// is recorded; GET /test/polls lists them as [{t: ms since issue, answer}].
import http from 'node:http';
import { URLSearchParams } from 'node:url';

import Provider from 'oidc-provider';

const options = {
  user: 'alice', password: 'alice-password', deviceTtl: 600, interval: null, minPollGap: 0,
  ...JSON.parse(process.argv[2] || '{}'),
};

const server = http.createServer();
// Node closes idle kept-alive connections after 5 s, the default poll interval: a race with the
// client's reuse that is the transport's business, not what these tests are about.
server.keepAliveTimeout = 65_000;
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;

const provider = new Provider(issuer, {
  clients: [{
    client_id: 'gatehouse-cli',
    token_endpoint_auth_method: 'none',
    grant_types: ['urn:ietf:params:oauth:grant-type:device_code', 'refresh_token'],
    response_types: [],
    redirect_uris: [],
  }],
  features: {
    devInteractions: { enabled: false },
    deviceFlow: { enabled: true },
    revocation: { enabled: true },
    introspection: { enabled: true },
  },
  cookies: { keys: ['gatehouse-test-cookie-key-0123456789'] },
  claims: { openid: ['sub'], profile: ['preferred_username'] },
  conformIdTokenClaims: false,
  ttl: { DeviceCode: () => options.deviceTtl },
  // Refresh tokens for this client whatever the scope (by default only with offline_access).
  issueRefreshToken: async (ctx, client) => client.grantTypeAllowed('refresh_token'),
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  async findAccount(ctx, id) {
    if (id !== options.user) return undefined;
    return { accountId: id, claims: async () => ({ sub: id, preferred_username: id }) };
  },
});
provider.proxy = false;

// ---- the RFC 8628 §3.5 wrapper --------------------------------------------------------------
const issuedAt = new Map(); // device_code → ms
const lastPoll = new Map();
const polls = [];

provider.use(async (ctx, next) => {
  await next();
  if (ctx.path === '/device/auth' && ctx.status === 200 && ctx.body?.device_code) {
    issuedAt.set(ctx.body.device_code, Date.now());
    if (options.interval !== null) ctx.body = { ...ctx.body, interval: options.interval };
  }
  if (ctx.path === '/token' && ctx.oidc?.params?.grant_type?.endsWith(':device_code')) {
    const code = ctx.oidc.params.device_code;
    polls.push({ t: Date.now() - (issuedAt.get(code) ?? Date.now()), answer: ctx.body?.error ?? 'tokens' });
  }
});

async function readBody(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

// ---- interactions: login form (password checked) and consent ------------------------------
const page = (body) => `<!doctype html><html><body>${body}</body></html>`;
const escape = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

async function interaction(req, res, path) {
  const [, , uid, action] = path.split('/');
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) throw new Error('interaction mismatch');
  const { prompt, params, session } = details;
  if (req.method === 'GET') {
    res.setHeader('Content-Type', 'text/html; charset=utf-8');
    if (prompt.name === 'login') {
      res.end(page(`<form method="post" action="/interaction/${escape(uid)}/login">
        <input name="login"><input name="password" type="password">
        <button type="submit">Sign in</button></form>`));
    } else {
      res.end(page(`<p>Allow ${escape(params.client_id)}?</p>
        <form method="post" action="/interaction/${escape(uid)}/confirm">
        <button type="submit">Allow</button></form>`));
    }
    return;
  }
  const form = new URLSearchParams(await readBody(req));
  if (action === 'login') {
    if (form.get('login') !== options.user || form.get('password') !== options.password) {
      res.statusCode = 401;
      res.setHeader('Content-Type', 'text/html; charset=utf-8');
      res.end(page('<p>wrong user name or password</p>'));
      return;
    }
    await provider.interactionFinished(req, res, { login: { accountId: options.user } },
      { mergeWithLastSubmission: false });
    return;
  }
  if (action === 'confirm') {
    const grant = prompt.details.grantId
      ? await provider.Grant.find(prompt.details.grantId)
      : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
    if (prompt.details.missingOIDCScope) grant.addOIDCScope(prompt.details.missingOIDCScope.join(' '));
    if (prompt.details.missingOIDCClaims) grant.addOIDCClaims(prompt.details.missingOIDCClaims);
    for (const [indicator, scopes] of Object.entries(prompt.details.missingResourceScopes ?? {})) {
      grant.addResourceScope(indicator, scopes.join(' '));
    }
    const grantId = await grant.save();
    await provider.interactionFinished(req, res, { consent: { grantId } },
      { mergeWithLastSubmission: true });
    return;
  }
  res.statusCode = 404;
  res.end();
}

const callback = provider.callback();
server.on('request', async (req, res) => {
  try {
    const path = new URL(req.url, issuer).pathname;
    if (path === '/test/polls') {
      res.setHeader('Content-Type', 'application/json');
      res.end(JSON.stringify(polls));
      return;
    }
    if (path.startsWith('/interaction/')) {
      await interaction(req, res, path);
      return;
    }
    if (path === '/token' && req.method === 'POST' && options.minPollGap > 0) {
      const text = await readBody(req);
      const body = Object.fromEntries(new URLSearchParams(text));
      if (body.grant_type?.endsWith(':device_code') && issuedAt.has(body.device_code)) {
        const now = Date.now();
        const previous = lastPoll.get(body.device_code) ?? issuedAt.get(body.device_code);
        lastPoll.set(body.device_code, now);
        if (now - previous < options.minPollGap * 1000) {
          polls.push({ t: now - issuedAt.get(body.device_code), answer: 'slow_down' });
          res.statusCode = 400;
          res.setHeader('Content-Type', 'application/json');
          res.end(JSON.stringify({ error: 'slow_down', error_description: 'polling too fast' }));
          return;
        }
      }
      req.body = body; // the stream is consumed; oidc-provider reads req.body instead
    }
    callback(req, res);
  } catch (err) {
    res.statusCode = 500;
    res.end(String(err?.stack ?? err));
  }
});

process.on('SIGTERM', () => server.close(() => process.exit(0)));
console.log(`listening ${issuer}`);
