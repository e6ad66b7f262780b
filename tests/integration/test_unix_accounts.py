"""Local Unix accounts (the shadow database) as a Basic store.

Creates a real system account with useradd/chpasswd (the tests run as root, as CI does) and
removes it afterwards.
"""
import os
import subprocess
import unittest

import requests

import gh

USER = f"ghit{os.getpid() % 100000}"


class UnixAccounts(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if os.geteuid() != 0:
            raise AssertionError("these tests create a system account: run them as root")
        subprocess.run(["useradd", "--no-create-home", "--shell", "/usr/sbin/nologin", USER], check=True)
        subprocess.run(["chpasswd"], input=f"{USER}:s3cret-unix\n", text=True, check=True)

    @classmethod
    def tearDownClass(cls):
        subprocess.run(["userdel", USER], check=False)

    def test_system_password_logs_in_and_lock_refuses(self):
        config = '[log]\naccess = ""\n[auth]\nschemes = ["basic"]\n[auth.basic]\nstores = ["unix"]\n'
        with gh.Server(config_text=config, demo=False) as s:
            r = requests.get(s.url + "/auth/whoami", auth=(USER, "s3cret-unix"))
            self.assertEqual(r.status_code, 200, r.text)
            self.assertEqual(r.json()["user"], USER)
            self.assertEqual(requests.get(s.url + "/auth/whoami", auth=(USER, "wrong")).status_code, 401)
            self.assertEqual(requests.get(s.url + "/auth/whoami", auth=("root", "x")).status_code, 401)
            subprocess.run(["usermod", "-L", USER], check=True)
            gh.wait_until(lambda: requests.get(s.url + "/auth/whoami",
                                               auth=(USER, "s3cret-unix")).status_code == 401,
                          what="the locked account to be refused")
            subprocess.run(["usermod", "-U", USER], check=True)

    def test_digest_over_unix_accounts_is_refused_by_check_config(self):
        path = os.path.join(gh.tempfile.mkdtemp(), "g.toml")
        with open(path, "w") as f:
            f.write('[auth]\nschemes = ["digest"]\n[auth.digest]\nstores = ["unix"]\n')
        out = gh.run_cli(["check-config", path], check=False)
        self.assertEqual(out.returncode, 2)
        self.assertIn('store "unix" cannot give the Digest HA1', out.stderr)


if __name__ == "__main__":
    unittest.main()
