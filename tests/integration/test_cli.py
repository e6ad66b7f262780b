"""The command line (SPEC §2): exit codes 0 ok, 1 failure, 2 usage or configuration error."""
import os
import re
import shutil
import stat
import tempfile
import tomllib
import unittest

import gh


class CliTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="gatehouse-cli-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.data = os.path.join(self.tmp, "data")

    def cli(self, *args, stdin=None, data=True):
        return gh.run_cli(list(args), data_dir=self.data if data else None, stdin=stdin,
                          check=False)

    def write(self, name, text):
        path = os.path.join(self.tmp, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def users(self):
        out = self.cli("user", "list")
        self.assertEqual(out.returncode, 0, out.stderr)
        return {line.split("\t")[0]: line.split("\t")[1:] for line in out.stdout.splitlines()}

    # --- usage -------------------------------------------------------------------------------

    def test_unknown_subcommand(self):
        out = self.cli("frobnicate", data=False)
        self.assertEqual(out.returncode, 2)
        self.assertTrue(out.stderr.strip())

    def test_no_subcommand(self):
        self.assertEqual(self.cli(data=False).returncode, 2)

    def test_unknown_option(self):
        out = self.cli("user", "list", "--frobnicate")
        self.assertEqual(out.returncode, 2)
        self.assertIn("frobnicate", out.stderr)

    def test_help_and_version(self):
        out = self.cli("--help", data=False)
        self.assertEqual(out.returncode, 0)
        for sub in ["serve", "init", "user", "apikey", "htpasswd", "check-config"]:
            self.assertIn(sub, out.stdout)
        out = self.cli("user", "add", "--help", data=False)
        self.assertEqual(out.returncode, 0)
        self.assertIn("--password-stdin", out.stdout)
        out = self.cli("--version", data=False)
        self.assertEqual(out.returncode, 0)
        self.assertRegex(out.stdout.strip(), r"\d+\.\d+")

    def test_password_never_from_argv(self):
        self.assertEqual(self.cli("init").returncode, 0)
        out = self.cli("user", "add", "x", "--password", "foo")
        self.assertEqual(out.returncode, 2)
        self.assertNotIn("x", self.users())
        out = self.cli("user", "passwd", "x", "--password=foo")
        self.assertEqual(out.returncode, 2)
        out = self.cli("htpasswd", os.path.join(self.tmp, "h"), "x", "foo", data=False)
        self.assertEqual(out.returncode, 2)
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "h")))

    def test_empty_password_refused(self):
        out = self.cli("user", "add", "empty", "--password-stdin", stdin="\n")
        self.assertEqual(out.returncode, 2)
        self.assertIn("password", out.stderr)

    def test_no_terminal_without_password_stdin(self):
        # No tty in the test: asking for a password must fail cleanly (usage), not hang.
        out = gh.subprocess.run([gh.BIN, "user", "add", "tty", "--data", self.data],
                                stdin=gh.subprocess.DEVNULL, capture_output=True, text=True,
                                timeout=30, start_new_session=True)
        self.assertEqual(out.returncode, 2, out.stderr)
        self.assertIn("--password-stdin", out.stderr)

    # --- check-config --------------------------------------------------------------------------

    def test_check_config_good(self):
        path = self.write("good.toml", '[server]\nmax_body_bytes = 2048\nread_timeout = "5s"\n'
                                       '[auth]\nschemes = ["basic"]\n'
                                       '[compat]\nauth_adventures = true\n')
        out = self.cli("check-config", path, data=False)
        self.assertEqual(out.returncode, 0, out.stderr)
        effective = tomllib.loads(out.stdout)
        self.assertEqual(effective["server"]["max_body_bytes"], 2048)
        self.assertEqual(effective["server"]["read_timeout"], "5s")
        self.assertEqual(effective["server"]["max_header_bytes"], 16384)  # a default
        self.assertEqual(effective["auth"]["schemes"], ["basic"])
        self.assertEqual(effective["auth"]["realm"], "gatehouse")
        self.assertIs(effective["compat"]["auth_adventures"], True)
        # The printed configuration is itself a valid configuration file.
        again = self.write("again.toml", out.stdout)
        out2 = self.cli("check-config", again, data=False)
        self.assertEqual(out2.returncode, 0, out2.stderr)
        self.assertEqual(tomllib.loads(out2.stdout)["server"], effective["server"])

    def test_check_config_reports_every_problem_with_line(self):
        path = self.write("bad.toml", '# a comment\n[server]\nmax_body_bytez = 5\n'
                                      'threads = "two"\n')
        out = self.cli("check-config", path, data=False)
        self.assertEqual(out.returncode, 2)
        self.assertEqual(out.stdout, "")
        lines = out.stderr.strip().splitlines()
        self.assertEqual(len(lines), 2, out.stderr)
        self.assertRegex(lines[0], re.escape(path) + r":3:.*server\.max_body_bytez")
        self.assertRegex(lines[1], re.escape(path) + r":4:.*server\.threads")

    def test_check_config_syntax_error_and_missing_file(self):
        path = self.write("syntax.toml", "[server\nthreads = 1\n")
        out = self.cli("check-config", path, data=False)
        self.assertEqual(out.returncode, 2)
        self.assertIn(path + ":1", out.stderr)
        missing = os.path.join(self.tmp, "missing.toml")
        out = self.cli("check-config", missing, data=False)
        self.assertEqual(out.returncode, 2)
        self.assertIn(missing, out.stderr)

    def test_check_config_combinations(self):
        path = self.write("combo.toml", '[auth]\nschemes = ["basic", "kerberos5"]\n'
                                        '[auth.basic]\nstores = ["static"]\n')
        out = self.cli("check-config", path, data=False)
        self.assertEqual(out.returncode, 2)
        self.assertIn("auth.schemes", out.stderr)
        self.assertIn("kerberos5", out.stderr)
        self.assertIn("auth.basic.stores", out.stderr)

    def test_serve_with_bad_config_exits_2(self):
        path = self.write("bad.toml", "[server]\nthreadz = 1\n")
        out = self.cli("serve", "--config", path, "--listen", "127.0.0.1:0")
        self.assertEqual(out.returncode, 2)
        self.assertIn("server.threadz", out.stderr)

    # --- init and users ---------------------------------------------------------------------------

    def test_init_demo(self):
        out = self.cli("init", "--demo")
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn("created", out.stdout)
        db = os.path.join(self.data, "gatehouse.db")
        self.assertTrue(os.path.isfile(db))
        self.assertEqual(stat.S_IMODE(os.stat(db).st_mode) & 0o077, 0, "the store is private")
        users = self.users()
        self.assertEqual(users["admin"][0], "Admin")
        self.assertEqual(users["demo"][0], "User")
        out = self.cli("init", "--demo")
        self.assertEqual(out.returncode, 0)
        self.assertIn("already present", out.stdout)
        self.assertEqual(len(self.users()), 2)

    def test_init_without_demo_has_no_users(self):
        self.assertEqual(self.cli("init").returncode, 0)
        self.assertEqual(self.users(), {})

    def test_user_add_twice(self):
        self.assertEqual(self.cli("user", "add", "erin", "--password-stdin", stdin="pw1\n").returncode, 0)
        out = self.cli("user", "add", "Erin", "--password-stdin", stdin="pw2\n")
        self.assertEqual(out.returncode, 1)
        self.assertIn("erin", out.stderr)

    def test_user_list_after_adds(self):
        self.cli("init")
        self.assertEqual(self.cli("user", "add", "frank", "--password-stdin", stdin="a\n").returncode, 0)
        out = self.cli("user", "add", "grace", "--role", "Admin", "--role", "Ops",
                       "--password-stdin", stdin="b\n")
        self.assertEqual(out.returncode, 0, out.stderr)
        users = self.users()
        self.assertEqual(set(users), {"frank", "grace"})
        self.assertEqual(users["frank"][0], "User")
        self.assertEqual(users["grace"][0].replace(" ", ""), "Admin,Ops")
        self.assertEqual(self.cli("user", "disable", "frank").returncode, 0)
        self.assertIn("disabled", self.users()["frank"])

    def test_user_del(self):
        self.cli("user", "add", "henry", "--password-stdin", stdin="x\n")
        self.assertEqual(self.cli("user", "del", "henry").returncode, 0)
        self.assertNotIn("henry", self.users())
        out = self.cli("user", "del", "henry")
        self.assertEqual(out.returncode, 1)
        self.assertIn("henry", out.stderr)
        self.assertEqual(self.cli("user", "del", "nobody").returncode, 1)

    def test_unknown_user_operations(self):
        self.cli("init")
        for args in [("user", "passwd", "ghost", "--password-stdin"), ("user", "disable", "ghost"),
                     ("user", "enable", "ghost"), ("user", "roles", "ghost"),
                     ("apikey", "create", "ghost")]:
            out = self.cli(*args, stdin="pw\n")
            self.assertEqual(out.returncode, 1, args)
            self.assertIn("ghost", out.stderr, args)
            self.assertEqual(out.stdout, "", args)

    def test_invalid_username(self):
        for name in ["has space", "tab\tname", "\u2163"]:  # U+2163 ROMAN NUMERAL FOUR: NFKC differs
            out = self.cli("user", "add", name, "--password-stdin", stdin="pw\n")
            self.assertEqual(out.returncode, 2, name)
            self.assertEqual(self.users(), {})

    def test_apikey_revoke_unknown(self):
        self.cli("init", "--demo")
        out = self.cli("apikey", "revoke", "0123456789abcdef")
        self.assertEqual(out.returncode, 1)
        self.assertIn("0123456789abcdef", out.stderr)

    def test_apikey_list(self):
        self.cli("init", "--demo")
        created = self.cli("apikey", "create", "demo", "--name", "laptop", "--expires", "90d")
        self.assertEqual(created.returncode, 0, created.stderr)
        key_id = gh.API_KEY_RE.match(created.stdout.strip()).group(1)
        out = self.cli("apikey", "list")
        self.assertEqual(out.returncode, 0)
        rows = [l.split("\t") for l in out.stdout.splitlines()]
        self.assertEqual(rows[0], ["id", "user", "name", "created", "last_used", "expires",
                                   "roles", "status"])
        row = [r for r in rows if r[0] == key_id][0]
        self.assertEqual(row[1:3], ["demo", "laptop"])
        self.assertEqual(row[4], "-")
        self.assertRegex(row[5], r"^\d{4}-\d\d-\d\dT")
        self.assertEqual(row[7], "active")
        self.assertEqual([r for r in self.cli("apikey", "list", "admin").stdout.splitlines()[1:]], [])


if __name__ == "__main__":
    unittest.main()
