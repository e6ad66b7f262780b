// Verifies a gatehouse access token the way a third-party resource server would: with npm's
// `jose`, from the issuer's JWKS alone.
//
//   node verify_jose.mjs JWKS_URL TOKEN ISSUER AUDIENCE [ALG]
//
// Checks the signature (key chosen by "kid" from the remote JWKS), "iss", "aud", "exp"/"nbf" and
// the header "typ" (at+jwt, RFC 9068). Prints {"header":...,"payload":...} as JSON on stdout and
// exits 0; on any failure prints the error (code and message) on stderr and exits 1.
import { createRemoteJWKSet, jwtVerify } from 'jose';

const [jwksUrl, token, issuer, audience, alg] = process.argv.slice(2);
if (!jwksUrl || !token || !issuer || !audience) {
  process.stderr.write('usage: node verify_jose.mjs JWKS_URL TOKEN ISSUER AUDIENCE [ALG]\n');
  process.exit(2);
}

try {
  const jwks = createRemoteJWKSet(new URL(jwksUrl), { timeoutDuration: 5000 });
  const options = { issuer, audience, typ: 'at+jwt', requiredClaims: ['exp', 'iat', 'sub'] };
  if (alg) options.algorithms = [alg];
  const { payload, protectedHeader } = await jwtVerify(token, jwks, options);
  process.stdout.write(JSON.stringify({ header: protectedHeader, payload }) + '\n');
  process.exit(0);
} catch (err) {
  process.stderr.write(`jose refused the token: ${err.code ?? err.name}: ${err.message}\n`);
  process.exit(1);
}
