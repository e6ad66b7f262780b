"""Kerberos fixtures: a throwaway MIT KDC and Apache httpd with mod_auth_gssapi, on loopback.

Everything lives in one temp dir and is torn down by the test (reference/real-peers.md,
"Kerberos / SPNEGO"). Nothing touches the system krb5.conf, /var/tmp or standard ports.

  with Realm() as realm, GssApache(realm) as apache:
      realm.kinit("user1")                       # default ccache of realm.env()
      subprocess.run(["curl", "--negotiate", "-u", ":", apache.url("/krb/ok")], env=realm.env())

Apache locations (every one authenticates with GSSAPI, any principal of the keytab, and reports
the authenticated user in `X-Remote-User`):
  /krb/ok          200, the genuine mutual-authentication token in WWW-Authenticate
  /krb/missing     404 after authentication, body ERROR_BODY (mod_auth_gssapi still adds the token)
  /notoken/ok      200 with WWW-Authenticate removed (a server that sends no token)
  /notoken/missing 404 without token, body ERROR_BODY
  /badtoken/ok     200 with `WWW-Authenticate: Negotiate <garbage>`
  /staletoken/ok   200 with a genuine acceptor token of ANOTHER security context (replayed)
  /deleg/ok        200; delegated credentials are stored in `apache.deleg_dir`
  /echo/ok         200; echoes the request's Authorization in X-Seen-Authorization (replay test)
  /deny/ok         authenticates, then refuses every user with 401 + `WWW-Authenticate: Negotiate`
The same Apache is a forward proxy (ProxyRequests On) that wants Negotiate: 407 with
`Proxy-Authenticate: Negotiate`, the proxy user in `X-Proxy-User`.
The access log (`apache.access_log()`) has one line per request: "<status> <method> <uri> <user>".
"""
import base64
import os
import secrets
import shutil
import subprocess
import tempfile
import unittest

from client_probe import free_port, stop_process, wait_listening

REALM = "GATEHOUSE.TEST"
ERROR_BODY = "gatehouse-test: this error page must not reach a sanitizing client"
PY = "/usr/bin/python3"


def require(tool):
    path = shutil.which(tool) or (tool if os.path.isabs(tool) and os.access(tool, os.X_OK) else None)
    if path is None:
        for d in ("/usr/sbin", "/sbin"):
            candidate = os.path.join(d, tool)
            if os.access(candidate, os.X_OK):
                return candidate
        raise AssertionError(f"required tool '{tool}' is not installed")
    return path


def _chown_www(path):
    """Apache's children run as www-data when the test runs as root."""
    if os.geteuid() == 0:
        shutil.chown(path, "www-data", "www-data")


class Realm:
    """An MIT KDC for REALM on 127.0.0.1:<free port>, users user1/user2 and three HTTP services."""

    USERS = ("user1", "user2")
    SERVICES = ("HTTP/127.0.0.1", "HTTP/localhost", "HTTP/alias.example")

    def __init__(self):
        self.tmp = tempfile.mkdtemp(prefix="gatehouse-krb-")
        os.chmod(self.tmp, 0o755)  # Apache's children (www-data) traverse it
        self.passwords = {u: secrets.token_urlsafe(18) for u in self.USERS}
        self.keytab = os.path.join(self.tmp, "http.keytab")
        self.krb5_conf = os.path.join(self.tmp, "krb5.conf")
        self.kdc_conf = os.path.join(self.tmp, "kdc.conf")
        self.rcache_dir = os.path.join(self.tmp, "rcache")
        self.ccache = "FILE:" + os.path.join(self.tmp, "ccache.default")
        self.proc = None
        self.port = None

    def base_env(self):
        env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower() and not k.startswith("KRB5")}
        env.update(KRB5_CONFIG=self.krb5_conf, KRB5_KDC_PROFILE=self.kdc_conf,
                   KRB5RCACHEDIR=self.rcache_dir, KRB5_TRACE="/dev/null")
        return env

    def env(self, ccache=None, **extra):
        """The environment of a client: this realm's config and a ccache (default: self.ccache)."""
        env = self.base_env()
        env["KRB5CCNAME"] = ccache if ccache is not None else self.ccache
        env.update(extra)
        return env

    def start(self):
        for tool in ("kdb5_util", "kadmin.local", "krb5kdc", "kinit", "klist"):
            require(tool)
        self.port = free_port(udp_too=True)
        db = os.path.join(self.tmp, "kdb")
        os.makedirs(db)
        os.makedirs(self.rcache_dir)
        os.chmod(self.rcache_dir, 0o700)
        _chown_www(self.rcache_dir)
        with open(self.krb5_conf, "w") as f:
            f.write(f"""[libdefaults]
  default_realm = {REALM}
  dns_lookup_kdc = false
  dns_lookup_realm = false
  rdns = false
  dns_canonicalize_hostname = false
  forwardable = true
  udp_preference_limit = 1
[realms]
  {REALM} = {{
    kdc = 127.0.0.1:{self.port}
  }}
[domain_realm]
  127.0.0.1 = {REALM}
  localhost = {REALM}
  alias.example = {REALM}
""")
        with open(self.kdc_conf, "w") as f:
            f.write(f"""[kdcdefaults]
  kdc_listen = 127.0.0.1:{self.port}
  kdc_tcp_listen = 127.0.0.1:{self.port}
[realms]
  {REALM} = {{
    database_name = {db}/principal
    key_stash_file = {db}/stash
    acl_file = {db}/kadm5.acl
    max_life = 10h
    max_renewable_life = 1d
  }}
[logging]
  kdc = FILE:{self.tmp}/kdc.log
""")
        os.chmod(self.krb5_conf, 0o644)
        env = self.base_env()
        run = lambda args, stdin=None: subprocess.run(  # noqa: E731
            args, input=stdin, env=env, capture_output=True, text=True, timeout=60, check=True)
        run(["kdb5_util", "create", "-s", "-r", REALM, "-P", secrets.token_urlsafe(24)])
        commands = [f"addprinc -pw {self.passwords[u]} {u}" for u in self.USERS]
        commands += [f"addprinc -randkey {s}" for s in self.SERVICES]
        commands += ["ktadd -k " + self.keytab + " " + " ".join(self.SERVICES)]
        for command in commands:
            run(["kadmin.local", "-r", REALM, "-q", command])
        os.chmod(self.keytab, 0o600)
        _chown_www(self.keytab)
        self.kdc_log = open(os.path.join(self.tmp, "krb5kdc.out"), "w")
        self.proc = subprocess.Popen(["krb5kdc", "-n", "-r", REALM], env=env,
                                     stdout=self.kdc_log, stderr=subprocess.STDOUT)
        wait_listening(self.port, self.proc, "krb5kdc", log_path=self.kdc_log.name)
        return self

    def principal(self, name):
        return f"{name}@{REALM}"

    def kinit(self, user, ccache=None, forwardable=True):
        """A TGT for `user` in `ccache` (default: self.ccache)."""
        ccache = ccache or self.ccache
        args = ["kinit", "-f" if forwardable else "-F", "-c", ccache, self.principal(user)]
        proc = subprocess.run(args, input=self.passwords[user] + "\n", env=self.env(ccache),
                              capture_output=True, text=True, timeout=30)
        if proc.returncode != 0:
            raise AssertionError(f"kinit {user} failed: {proc.stderr}")
        return ccache

    def tickets(self, ccache=None):
        """The service principals of the tickets in `ccache` (klist)."""
        proc = subprocess.run(["klist", "-c", ccache or self.ccache], env=self.env(ccache),
                              capture_output=True, text=True, timeout=30)
        if proc.returncode != 0:
            raise AssertionError(f"klist failed: {proc.stderr}")
        out = []
        for line in proc.stdout.splitlines():
            fields = line.split()
            if len(fields) >= 5 and "@" in fields[-1] and fields[0][0].isdigit():
                out.append(fields[-1])
        return out

    def stop(self):
        stop_process(self.proc)

    def __enter__(self):
        try:
            return self.start()
        except BaseException:
            self.__exit__()
            raise

    def __exit__(self, *exc):
        self.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)


_FOREIGN_TOKEN_SCRIPT = r"""
import base64, gssapi, sys
spnego = gssapi.OID.from_int_seq("1.3.6.1.5.5.2")
target = gssapi.Name("HTTP@127.0.0.1", gssapi.NameType.hostbased_service)
ini = gssapi.SecurityContext(name=target, usage="initiate", mech=spnego,
                             flags=gssapi.RequirementFlag.mutual_authentication)
acc = gssapi.SecurityContext(usage="accept", creds=gssapi.Credentials(usage="accept", store={"keytab": sys.argv[1]}))
out = acc.step(ini.step())
ini.step(out)
assert ini.complete and acc.complete
print(base64.b64encode(out).decode())
"""


class GssApache:
    """Apache httpd with mod_auth_gssapi on 127.0.0.1:<free port> (see the module docstring)."""

    def __init__(self, realm):
        self.realm = realm
        self.dir = os.path.join(realm.tmp, "apache")
        self.deleg_dir = os.path.join(realm.tmp, "deleg")
        self.proc = None
        self.port = None

    def url(self, path, host="127.0.0.1"):
        return f"http://{host}:{self.port}{path}"

    def _foreign_token(self):
        """A genuine acceptor token from another SPNEGO context (user1 → HTTP/127.0.0.1), made with
        python-gssapi and the same keytab; verifying it must fail in any other context."""
        ccache = "FILE:" + os.path.join(self.realm.tmp, "ccache.foreign")
        self.realm.kinit("user1", ccache)
        proc = subprocess.run([PY, "-c", _FOREIGN_TOKEN_SCRIPT, self.realm.keytab],
                              env=self.realm.env(ccache), capture_output=True, text=True, timeout=60)
        if proc.returncode != 0:
            raise AssertionError(f"foreign token: {proc.stderr}")
        token = proc.stdout.strip()
        base64.b64decode(token, validate=True)
        return token

    def start(self):
        apache2 = require("apache2")
        modules = "/usr/lib/apache2/modules"
        for module in ("mod_auth_gssapi.so", "mod_headers.so"):
            if not os.path.exists(os.path.join(modules, module)):
                raise AssertionError(f"Apache module {module} is not installed")
        foreign = self._foreign_token()
        self.port = free_port()
        www = os.path.join(self.dir, "www")
        for sub in ("krb", "notoken", "badtoken", "staletoken", "deleg", "echo", "deny"):
            os.makedirs(os.path.join(www, sub))
            with open(os.path.join(www, sub, "ok"), "w") as f:
                f.write(f"hello from {sub}\n")
        os.makedirs(os.path.join(www, "errors"))
        with open(os.path.join(www, "errors", "404.txt"), "w") as f:
            f.write(ERROR_BODY)
        os.makedirs(self.deleg_dir)
        os.chmod(self.deleg_dir, 0o700)
        _chown_www(self.deleg_dir)
        for root, dirs, files in os.walk(self.dir):
            os.chmod(root, 0o755)
            for name in files:
                os.chmod(os.path.join(root, name), 0o644)
        not_401 = '"expr=%{REQUEST_STATUS} != 401"'
        extras = {
            "krb": "",
            # Error responses bypass mod_headers' edits of the authenticated request (Apache sends
            # them with ap_send_error_response), so the 404 goes to an unauthenticated error page
            # whose location removes the token (ErrorDocument is an internal redirect that keeps
            # the 404 status and the error header table).
            "notoken": f"  Header always unset WWW-Authenticate {not_401}\n"
                       "  ErrorDocument 404 /errors/404.txt\n",
            "badtoken": f'  Header always set WWW-Authenticate "Negotiate {base64.b64encode(b"not a token").decode()}" {not_401}\n',
            "staletoken": f'  Header always set WWW-Authenticate "Negotiate {foreign}" {not_401}\n',
            "deleg": f"  GssapiDelegCcacheDir {self.deleg_dir}\n",
            "echo": '  Header always set X-Seen-Authorization "expr=%{HTTP:Authorization}"\n',
            "deny": "",
        }
        locations = f"""<Location /errors/>
  Header always unset WWW-Authenticate
</Location>
"""
        locations += "".join(f"""<Location /{name}/>
  AuthType GSSAPI
  AuthName "gatehouse test"
  GssapiCredStore keytab:{self.realm.keytab}
  GssapiLocalName Off
  Require {"user nobody@" + REALM if name == "deny" else "valid-user"}
  ErrorDocument 404 "{ERROR_BODY}"
  Header always set X-Remote-User "expr=%{{REMOTE_USER}}"
{extra}</Location>
""" for name, extra in extras.items())
        self.access_log_path = os.path.join(self.dir, "access.log")
        self.error_log_path = os.path.join(self.dir, "error.log")
        conf = os.path.join(self.dir, "httpd.conf")
        with open(conf, "w") as f:
            f.write(f"""ServerRoot {self.dir}
ServerName 127.0.0.1
Listen 127.0.0.1:{self.port}
PidFile {self.dir}/httpd.pid
DefaultRuntimeDir {self.dir}
ErrorLog {self.error_log_path}
LogLevel warn auth_gssapi:debug
LoadModule mpm_event_module {modules}/mod_mpm_event.so
LoadModule authn_core_module {modules}/mod_authn_core.so
LoadModule authz_core_module {modules}/mod_authz_core.so
LoadModule authz_user_module {modules}/mod_authz_user.so
LoadModule auth_gssapi_module {modules}/mod_auth_gssapi.so
LoadModule headers_module {modules}/mod_headers.so
LoadModule mime_module {modules}/mod_mime.so
LoadModule proxy_module {modules}/mod_proxy.so
LoadModule proxy_http_module {modules}/mod_proxy_http.so
TypesConfig /dev/null
User www-data
Group www-data
StartServers 1
ServerLimit 1
ThreadsPerChild 16
MaxRequestWorkers 16
KeepAlive On
LogFormat "%>s %m %U%q %u" gh
CustomLog {self.access_log_path} gh
DocumentRoot {www}
<Directory />
  AllowOverride None
  Require all denied
</Directory>
<Directory {www}>
  Require all granted
</Directory>
# A forward proxy that wants Negotiate (407 + Proxy-Authenticate) before proxying anywhere.
ProxyRequests On
<Proxy "*">
  AuthType GSSAPI
  AuthName "gatehouse test proxy"
  GssapiCredStore keytab:{self.realm.keytab}
  GssapiLocalName Off
  Require valid-user
  Header always set X-Proxy-User "expr=%{{REMOTE_USER}}"
</Proxy>
{locations}""")
        env = self.realm.base_env()
        env["KRB5_KTNAME"] = "FILE:" + self.realm.keytab
        self.out = open(os.path.join(self.dir, "apache.out"), "w")
        self.proc = subprocess.Popen([apache2, "-f", conf, "-D", "FOREGROUND"], env=env,
                                     stdout=self.out, stderr=subprocess.STDOUT)
        wait_listening(self.port, self.proc, "apache2", log_path=self.out.name)
        return self

    def access_log(self):
        try:
            with open(self.access_log_path) as f:
                return [line.split() for line in f.read().splitlines()]
        except FileNotFoundError:
            return []

    def error_log(self):
        try:
            with open(self.error_log_path) as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def stop(self):
        stop_process(self.proc)

    def __enter__(self):
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc):
        self.stop()


class RealmAndApacheTestCase(unittest.TestCase):
    """A test class sharing one realm and one GssApache, with user1's ticket in the default
    ccache."""

    @classmethod
    def setUpClass(cls):
        cls.realm = Realm().__enter__()
        try:
            cls.apache = GssApache(cls.realm).__enter__()
        except BaseException:
            cls.realm.__exit__()
            raise
        cls.realm.kinit("user1")

    @classmethod
    def tearDownClass(cls):
        cls.apache.__exit__()
        cls.realm.__exit__()
