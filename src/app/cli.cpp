#include "app/cli.hpp"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <sstream>

#include "app/client_cli.hpp"
#include "auth/api_key.hpp"
#include "auth/password_hash.hpp"
#include "auth/username.hpp"
#include "gatehouse/server.hpp"
#include "guard/failed_login.hpp"
#include "schemes/digest_compute.hpp"
#include "state/state_store.hpp"
#include "stores/htdigest_store.hpp"
#include "stores/htpasswd_store.hpp"
#include "tokens/key_ring.hpp"
#include "util/clock.hpp"
#include "util/encoding.hpp"
#include "util/log.hpp"

namespace gatehouse::cli {

namespace {

// A failure the user can act on: printed as one line, exit code 1 (or 2 for usage).
struct Failure {
  int code;
  std::string message;
};

struct Common {
  std::string config_file;
  std::string data_dir;
};

void add_common(CLI::App* app, Common& common) {
  app->add_option("--config", common.config_file, "configuration file (TOML)");
  app->add_option("--data", common.data_dir, "data directory (default: gatehouse-data)");
}

Config load(const Common& common) {
  Config config =
      common.config_file.empty() ? default_server_config() : load_config(common.config_file);
  if (!common.data_dir.empty()) config.data_dir = common.data_dir;
  return config;
}

std::string read_line_from(std::FILE* in) {
  std::string line;
  for (int c; (c = std::fgetc(in)) != EOF && c != '\n';) line.push_back(static_cast<char>(c));
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

// Reads a password from the terminal with echo off; asks twice when `confirm`.
std::string prompt_password(const std::string& prompt, bool confirm) {
  const int fd = ::open("/dev/tty", O_RDWR | O_CLOEXEC);
  if (fd < 0) throw Failure{2, "no terminal to ask for the password on; use --password-stdin"};
  std::FILE* tty = ::fdopen(fd, "r+");
  termios old{};
  ::tcgetattr(fd, &old);
  termios quiet = old;
  quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
  auto ask = [&](const std::string& text) {
    std::fputs(text.c_str(), tty);
    std::fflush(tty);
    ::tcsetattr(fd, TCSAFLUSH, &quiet);
    std::string value = read_line_from(tty);
    ::tcsetattr(fd, TCSAFLUSH, &old);
    std::fputs("\n", tty);
    return value;
  };
  std::string first = ask(prompt);
  if (confirm && ask("Again: ") != first) {
    std::fclose(tty);
    throw Failure{1, "the passwords do not match"};
  }
  std::fclose(tty);
  return first;
}

std::string get_password(bool from_stdin, const std::string& prompt, bool confirm) {
  std::string password = from_stdin ? read_line_from(stdin) : prompt_password(prompt, confirm);
  if (password.empty()) throw Failure{2, "the password is empty"};
  return password;
}

std::string canonical_user(const std::string& name) {
  auto normalized = auth::normalize_username(name);
  if (!normalized) throw Failure{2, "\"" + name + "\" is not a valid username (RFC 8265)"};
  return *normalized;
}

std::string format_time(std::optional<std::int64_t> t) {
  if (!t) return "-";
  const std::time_t tt = static_cast<std::time_t>(*t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::int64_t parse_seconds(const std::string& text) {
  const auto parsed = parse_duration(text);
  if (!parsed || parsed->count() <= 0) {
    throw Failure{2, "--expires: \"" + text + "\" is not a duration like 30d, 12h or 90m"};
  }
  return std::chrono::duration_cast<std::chrono::seconds>(*parsed).count();
}

// Writes `line` in place of the first line for which `same` is true, or appends it; every other
// line is kept. The file is replaced atomically (FILE.tmp + rename); a new file gets mode 0600.
// Returns true when a line was replaced.
bool upsert_line(const std::string& file, const std::string& line,
                 const std::function<bool(const std::string&)>& same) {
  std::string text;
  bool replaced = false;
  if (std::ifstream in(file); in) {
    for (std::string l; std::getline(in, l);) {
      const bool here = !replaced && same(l);
      replaced = replaced || here;
      text += (here ? line : l) + "\n";
    }
  }
  if (!replaced) text += line + "\n";
  const std::string tmp = file + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) throw Failure{1, "cannot write " + tmp + ": " + std::strerror(errno)};
  const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ::close(fd);
  if (!ok || std::rename(tmp.c_str(), file.c_str()) != 0) {
    throw Failure{1, "cannot write " + file + ": " + std::strerror(errno)};
  }
  return replaced;
}

// HA1 for every base Digest algorithm, so any configured algorithm works for this user.
std::vector<state::DigestHa1Row> digest_rows(const std::string& name, const std::string& realm,
                                             const std::string& password) {
  std::vector<state::DigestHa1Row> rows;
  const Secret secret(password);
  for (const auto algorithm : {schemes::DigestAlgorithm::md5, schemes::DigestAlgorithm::sha256,
                               schemes::DigestAlgorithm::sha512_256}) {
    rows.push_back({name, realm, std::string(schemes::to_string(algorithm)),
                    schemes::ha1(algorithm, name, realm, secret)});
  }
  return rows;
}

void seed_demo(state::StateStore& store, const std::string& realm, std::int64_t now) {
  const struct {
    const char* name;
    const char* password;
    const char* role;
  } demo[] = {{"admin", "admin", "Admin"}, {"demo", "demo", "User"}};
  for (const auto& u : demo) {
    store.add_user(
        state::UserRow{u.name, auth::hash_argon2id(u.password), {u.role}, false, now, now});
    // Demo users can also log in with Digest when it is enabled.
    store.set_digest_ha1(u.name, digest_rows(u.name, realm, u.password));
  }
}

// How this binary was invoked, for the lines the banner suggests.
std::string program_name = "gatehouse";

void print_banner(const Config& config, const std::vector<std::uint16_t>& ports, bool demo) {
  const std::string host =
      config.server.listen.empty()
          ? "127.0.0.1"
          : config.server.listen.front().substr(0, config.server.listen.front().rfind(':'));
  const std::string base =
      "http://" + host + ":" + std::to_string(ports.empty() ? 0 : ports.front());
  std::cerr << "gatehouse " << GATEHOUSE_VERSION << " listening on " << base << "\n";
  if (demo) {
    std::cerr << "demo users: admin/admin (Admin), demo/demo (User) in " << config.data_dir
              << "\ntry:\n"
              << "  curl -u demo:demo " << base << "/auth/whoami\n"
              << "  http -a admin:admin " << base << "/auth/whoami\n"
              << "  " << program_name << " apikey create demo --name laptop --data "
              << config.data_dir << "   # then: curl -H 'X-API-Key: gh_...' " << base
              << "/auth/whoami\n"
              << "  curl " << base << "/metrics\n";
  }
  std::cerr.flush();
}

int run_serve(const Common& common, const std::vector<std::string>& listen, bool demo_flag) {
  Config config = load(common);
  if (!listen.empty()) config.server.listen = listen;
  util::diag().set_level(spdlog::level::from_str(config.log.level));
  // The embedded default (no config file) is the demo: seed users on first start.
  const bool demo = demo_flag || common.config_file.empty();
  if (demo && config.store_url().starts_with("sqlite:")) {
    auto store = state::open_state_store(config.store_url());
    if (store->list_users().empty()) seed_demo(*store, config.auth.realm, SystemClock{}.now_s());
  }
  Server server(config);
  server.start();
  print_banner(config, server.ports(), demo);
  return server.run();
}

int run_init(const Common& common, bool demo) {
  const Config config = load(common);
  auto store = state::open_state_store(config.store_url());
  if (demo && store->list_users().empty())
    seed_demo(*store, config.auth.realm, SystemClock{}.now_s());
  std::cout << (store->created() ? "created " : "already present: ") << config.store_url()
            << (demo ? " (demo users admin/admin, demo/demo)" : "") << "\n";
  return 0;
}

std::unique_ptr<state::StateStore> open_store(const Common& common) {
  return state::open_state_store(load(common).store_url());
}

// The limiter key an operator means: an IP address (or an IPv6 /64 as `throttle show` prints
// it) is an address key, "user:NAME" and "addr:ADDRESS" are taken as printed, anything else
// is a user name, normalized as the schemes normalize it.
std::string throttle_key(const std::string& argument) {
  if (argument.empty()) throw Failure{2, "USER|ADDR must not be empty"};
  if (argument.starts_with("user:")) return guard::FailedLoginLimiter::user_key(argument.substr(5));
  if (argument.starts_with("addr:")) {
    return guard::FailedLoginLimiter::address_key(argument.substr(5));
  }
  if (guard::normalize_address(argument)) return guard::FailedLoginLimiter::address_key(argument);
  return guard::FailedLoginLimiter::user_key(canonical_user(argument));
}

// `throttle show`: what the limiter of a server with this configuration holds (as last flushed
// to the store, at most one refresher pass behind a running server).
int throttle_show(const Config& config, state::StateStore& store,
                  const std::optional<std::string>& only) {
  const std::int64_t now_ms = SystemClock{}.now_ms();
  guard::FailedLoginLimiter limiter(guard::ThrottleLimits::from(config.guard));
  std::vector<guard::TatEntry> entries;
  for (const auto& row : store.load_throttle(now_ms).rows) {
    if (!only || row.key == *only) entries.emplace_back(row.key, row.tat_ms);
  }
  limiter.replace(entries);
  std::vector<guard::KeyState> shown;
  for (const auto& [key, tat] : entries) {
    if (auto state = limiter.inspect(key, now_ms)) shown.push_back(std::move(*state));
  }
  if (only && shown.empty()) {
    std::cout << *only << ": no failed logins in the current window\n";
    return 0;
  }
  std::cout << "key\tfailures\tretry_after\treset\n";
  for (const auto& k : shown) {
    std::cout << k.key << "\t" << k.failures << "/" << k.limit << " per " << k.period_s << "s\t"
              << (k.locked ? std::to_string(k.retry_after_s) + "s" : std::string("-")) << "\t"
              << format_time(now_ms / 1000 + k.reset_s) << "\n";
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 0 && argv[0] != nullptr) program_name = argv[0];
  CLI::App app{"gatehouse: an authenticating HTTP API server", "gatehouse"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string(GATEHOUSE_VERSION));
  Common common;

  auto* serve = app.add_subcommand("serve", "run the server");
  add_common(serve, common);
  std::vector<std::string> listen;
  bool serve_demo = false;
  serve->add_option("--listen", listen, "ADDR:PORT to listen on (repeatable)");
  serve->add_flag("--demo", serve_demo, "create the demo users on first start");

  auto* init = app.add_subcommand("init", "create the data store");
  add_common(init, common);
  bool init_demo = false;
  init->add_flag("--demo", init_demo, "also create the demo users admin/admin and demo/demo");

  auto* user = app.add_subcommand("user", "manage users in the gatehouse database");
  user->require_subcommand(1);
  std::string user_name;
  std::vector<std::string> roles;
  bool password_stdin = false;
  auto* user_add = user->add_subcommand("add", "add a user (password prompted)");
  user_add->add_option("NAME", user_name)->required();
  user_add->add_option("--role", roles, "role (repeatable; default User)");
  user_add->add_flag("--password-stdin", password_stdin, "read the password from stdin");
  bool hash_stdin = false;
  user_add->add_flag("--hash-stdin", hash_stdin,
                     "import an existing hash (bcrypt, SHA-crypt, yescrypt, argon2id) from stdin; "
                     "it becomes argon2id at the first login");
  auto* user_passwd = user->add_subcommand("passwd", "change a user's password");
  user_passwd->add_option("NAME", user_name)->required();
  user_passwd->add_flag("--password-stdin", password_stdin, "read the password from stdin");
  bool digest = false;
  for (auto* sub : {user_add, user_passwd}) {
    sub->add_flag(
        "--digest", digest,
        "also store the Digest HA1 for [auth] realm (MD5, SHA-256, SHA-512-256): "
        "needed for Digest logins; HA1 is password-equivalent, see docs/configuration.md");
  }
  auto* user_del = user->add_subcommand("del", "delete a user and their API keys");
  user_del->add_option("NAME", user_name)->required();
  auto* user_list = user->add_subcommand("list", "list users");
  auto* user_roles = user->add_subcommand("roles", "show, or with ROLE... set, a user's roles");
  user_roles->add_option("NAME", user_name)->required();
  user_roles->add_option("ROLE", roles);
  auto* user_disable = user->add_subcommand("disable", "refuse every credential of a user");
  user_disable->add_option("NAME", user_name)->required();
  auto* user_enable = user->add_subcommand("enable", "undo disable");
  user_enable->add_option("NAME", user_name)->required();
  for (auto* sub : user->get_subcommands({})) add_common(sub, common);

  auto* apikey = app.add_subcommand("apikey", "manage API keys");
  apikey->require_subcommand(1);
  std::string key_name = "cli", key_expires, key_id;
  auto* apikey_create = apikey->add_subcommand("create", "create a key for USER (printed once)");
  apikey_create->add_option("USER", user_name)->required();
  apikey_create->add_option("--name", key_name, "a label for the key");
  apikey_create->add_option("--expires", key_expires, "lifetime, e.g. 90d (default: never)");
  apikey_create->add_option("--role", roles, "narrow the key to these roles (repeatable)");
  auto* apikey_list = apikey->add_subcommand("list", "list keys (all, or USER's)");
  apikey_list->add_option("USER", user_name);
  auto* apikey_revoke = apikey->add_subcommand("revoke", "revoke a key by id");
  apikey_revoke->add_option("ID", key_id)->required();
  for (auto* sub : apikey->get_subcommands({})) add_common(sub, common);

  auto* session = app.add_subcommand("session", "list or revoke login sessions (refresh tokens)");
  session->require_subcommand(1);
  std::string session_id;
  bool session_all = false;
  auto* session_list = session->add_subcommand("list", "list live sessions (all, or USER's)");
  session_list->add_option("USER", user_name);
  session_list->add_flag("--all", session_all, "include revoked and expired sessions");
  auto* session_revoke =
      session->add_subcommand("revoke", "revoke a session by id, or every session of --user USER");
  session_revoke->add_option("ID", session_id);
  session_revoke->add_option("--user", user_name, "revoke all of this user's sessions");
  for (auto* sub : session->get_subcommands({})) add_common(sub, common);

  auto* signing_key = app.add_subcommand("signing-key", "list or rotate token signing keys");
  signing_key->require_subcommand(1);
  auto* signing_key_list = signing_key->add_subcommand("list", "list signing keys");
  auto* signing_key_rotate = signing_key->add_subcommand(
      "rotate", "make a new signing key now (running servers switch within a second)");
  for (auto* sub : signing_key->get_subcommands({})) add_common(sub, common);

  auto* throttle =
      app.add_subcommand("throttle", "show or reset the failed-login limiter (SPEC §10)");
  throttle->require_subcommand(1);
  std::string throttle_target;
  bool throttle_all = false;
  auto* throttle_show_cmd = throttle->add_subcommand(
      "show", "list user names and addresses with failed logins in the window (or one of them)");
  throttle_show_cmd->add_option("USER|ADDR", throttle_target,
                                "a user name, an IP address, or a key as listed");
  auto* throttle_reset = throttle->add_subcommand(
      "reset",
      "forget the failed logins of USER or ADDR (or --all); a running server applies it within "
      "250 ms");
  throttle_reset->add_option("USER|ADDR", throttle_target,
                             "a user name, an IP address, or a key as listed");
  throttle_reset->add_flag("--all", throttle_all, "reset every user name and address");
  for (auto* sub : throttle->get_subcommands({})) add_common(sub, common);

  auto* htpasswd = app.add_subcommand("htpasswd",
                                      "add or update USER in an Apache htpasswd file "
                                      "(bcrypt)");
  std::string file;
  int cost = 10;
  htpasswd->add_option("FILE", file)->required();
  htpasswd->add_option("USER", user_name)->required();
  htpasswd->add_option("--cost", cost, "bcrypt cost (4-31)")->check(CLI::Range(4, 31));
  htpasswd->add_flag("--password-stdin", password_stdin, "read the password from stdin");

  auto* htdigest = app.add_subcommand("htdigest",
                                      "add or update USER in REALM in an Apache htdigest file "
                                      "(Digest HA1)");
  std::string digest_realm;
  std::string digest_algorithm = "MD5";
  htdigest->add_option("FILE", file)->required();
  htdigest->add_option("REALM", digest_realm)->required();
  htdigest->add_option("USER", user_name)->required();
  htdigest->add_option("--algorithm", digest_algorithm,
                       "MD5 (default, what Apache reads), SHA-256 or SHA-512-256 (a gatehouse "
                       "extension line that Apache ignores)");
  htdigest->add_flag("--password-stdin", password_stdin, "read the password from stdin");

  auto* check = app.add_subcommand("check-config",
                                   "validate FILE and print the effective "
                                   "configuration");
  check->add_option("FILE", file)->required();

  ClientCommands client_commands(app);  // login, logout, request

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  if (const auto code = client_commands.run()) return *code;

  const std::int64_t now = SystemClock{}.now_s();
  try {
    if (*serve) return run_serve(common, listen, serve_demo);
    if (*init) return run_init(common, init_demo);
    if (*check) {
      const Config config = load_config(file);
      std::cout << to_toml(config);
      return 0;
    }
    if (*htpasswd) {
      const std::string name = user_name;
      if (name.empty() || name.find(':') != std::string::npos) {
        throw Failure{2, "USER must be non-empty and contain no ':'"};
      }
      const std::string line =
          name + ":" + auth::hash_bcrypt(get_password(password_stdin, "Password: ", true), cost);
      const bool replaced =
          upsert_line(file, line, [&](const std::string& l) { return l.starts_with(name + ":"); });
      std::cout << (replaced ? "updated " : "added ") << name << " in " << file << "\n";
      return 0;
    }
    if (*htdigest) {
      const std::string name = user_name;
      const std::string& realm = digest_realm;
      if (name.empty() || name.find(':') != std::string::npos || util::has_control_chars(name)) {
        throw Failure{2, "USER must be non-empty and contain no ':' or control characters"};
      }
      if (realm.empty() || realm.find(':') != std::string::npos || util::has_control_chars(realm)) {
        throw Failure{2, "REALM must be non-empty and contain no ':' or control characters"};
      }
      const auto parsed = schemes::parse_digest_algorithm(digest_algorithm);
      if (!parsed || schemes::is_sess(*parsed)) {
        throw Failure{2, "--algorithm must be MD5, SHA-256 or SHA-512-256"};
      }
      const Ha1Algorithm algorithm = *parsed == schemes::DigestAlgorithm::md5 ? Ha1Algorithm::md5
                                     : *parsed == schemes::DigestAlgorithm::sha256
                                         ? Ha1Algorithm::sha256
                                         : Ha1Algorithm::sha512_256;
      const Secret password(get_password(password_stdin, "Password: ", true));
      const stores::HtdigestEntry entry{name, realm, algorithm,
                                        schemes::ha1(*parsed, name, realm, password)};
      if (entry.ha1.empty()) throw Failure{1, "cannot compute the HA1"};
      const std::string line = stores::format_htdigest_line(entry);
      // Replaces the first line for the same user, realm and algorithm (Apache's htdigest
      // replaces the first line for the user and realm); keeps every other line as it is.
      const bool replaced = upsert_line(file, line, [&](const std::string& l) {
        const auto old = stores::parse_htdigest_line(l);
        const auto* e = std::get_if<stores::HtdigestEntry>(&old);
        return e != nullptr && e->username == name && e->realm == realm &&
               e->algorithm == algorithm;
      });
      std::cout << (replaced ? "updated " : "added ") << name << " in realm " << realm << " ("
                << stores::to_string(algorithm) << ") in " << file << "\n";
      return 0;
    }
    if (*user) {
      auto store = open_store(common);
      if (*user_list) {
        for (const auto& u : store->list_users()) {
          std::cout << u.name << "\t" << state::join_roles(u.roles)
                    << (u.disabled ? "\tdisabled" : "") << "\n";
        }
        return 0;
      }
      const std::string name = canonical_user(user_name);
      if (*user_add) {
        if (roles.empty()) roles = {"User"};
        std::string hash;
        std::string password;
        if (hash_stdin) {
          if (digest) throw Failure{2, "--digest needs the password, not an imported hash"};
          hash = read_line_from(stdin);
          const auto format = auth::detect_hash_format(hash);
          if (format == auth::HashFormat::unknown || format == auth::HashFormat::plain) {
            throw Failure{2, "--hash-stdin: not a supported password hash"};
          }
        } else {
          password = get_password(password_stdin, "Password: ", true);
          hash = auth::hash_argon2id(password);
        }
        if (!store->add_user({name, hash, roles, false, now, now})) {
          throw Failure{1, "user " + name + " already exists"};
        }
        if (digest)
          store->set_digest_ha1(name, digest_rows(name, load(common).auth.realm, password));
        std::cout << "added " << name << " (" << state::join_roles(roles) << ")"
                  << (digest ? " with Digest HA1" : "") << "\n";
        return 0;
      }
      if (*user_passwd) {
        if (!store->find_user(name)) throw Failure{1, "no such user: " + name};
        const std::string password = get_password(password_stdin, "New password: ", true);
        store->set_password(name, auth::hash_argon2id(password), now);  // drops any old HA1
        if (digest)
          store->set_digest_ha1(name, digest_rows(name, load(common).auth.realm, password));
        std::cout << "password changed for " << name << (digest ? " (with Digest HA1)" : "")
                  << "\n";
        return 0;
      }
      if (*user_del) {
        if (!store->delete_user(name)) throw Failure{1, "no such user: " + name};
        std::cout << "deleted " << name << "\n";
        return 0;
      }
      if (*user_disable || *user_enable) {
        if (!store->set_disabled(name, bool(*user_disable), now))
          throw Failure{1, "no such user: " + name};
        std::cout << name << (bool(*user_disable) ? " disabled" : " enabled") << "\n";
        return 0;
      }
      if (*user_roles) {
        if (!roles.empty() && !store->set_roles(name, roles, now)) {
          throw Failure{1, "no such user: " + name};
        }
        const auto row = store->find_user(name);
        if (!row) throw Failure{1, "no such user: " + name};
        std::cout << name << "\t" << state::join_roles(row->roles) << "\n";
        return 0;
      }
    }
    if (*session) {
      const Config config = load(common);
      auto store = open_store(common);
      const auto seconds = [](Duration d) {
        return std::chrono::duration_cast<std::chrono::seconds>(d).count();
      };
      if (*session_list) {
        std::optional<std::string> owner;
        if (!user_name.empty()) owner = canonical_user(user_name);
        std::cout << "id\tuser\tmethod\tcreated\tlast_used\texpires\tstatus\n";
        for (const auto& s : store->list_sessions(owner, session_all)) {
          const std::int64_t expires = std::min(s.created + seconds(config.tokens.session_max_age),
                                                s.last_used + seconds(config.tokens.session_idle));
          const char* status = s.revoked ? "revoked" : expires <= now ? "expired" : "active";
          if (!session_all && expires <= now) continue;
          std::cout << s.id << "\t" << s.username << "\t" << s.method << "\t"
                    << format_time(s.created) << "\t" << format_time(s.last_used) << "\t"
                    << format_time(expires) << "\t" << status
                    << (s.revoked ? " (" + s.revoked_reason + ")" : "") << "\n";
        }
        return 0;
      }
      if (*session_revoke) {
        if (session_id.empty() == user_name.empty()) {
          throw Failure{2, "give either a session ID or --user USER"};
        }
        if (!user_name.empty()) {
          const std::string owner = canonical_user(user_name);
          const std::size_t n = store->revoke_user_sessions(owner, now, "admin");
          std::cout << "revoked " << n << " session" << (n == 1 ? "" : "s") << " of " << owner
                    << "\n";
          return 0;
        }
        if (!store->revoke_session(session_id, now, "admin")) {
          throw Failure{1, "no live session with id " + session_id};
        }
        std::cout << "revoked " << session_id << "\n";
        return 0;
      }
    }
    if (*signing_key) {
      const Config config = load(common);
      auto store = open_store(common);
      if (*signing_key_list) {
        std::cout << "kid\talg\tcreated\tretired\tstatus\n";
        bool signer_seen = false;
        for (const auto& k : store->list_signing_keys()) {
          const char* status = "retired";
          if (!k.retired && !signer_seen) {
            status = "signing";
            signer_seen = true;
          } else if (k.retired && *k.retired + std::chrono::duration_cast<std::chrono::seconds>(
                                                   config.tokens.access_ttl + config.tokens.leeway)
                                                   .count() >
                                      now) {
            status = "verifying";
          }
          std::cout << k.kid << "\t" << k.alg << "\t" << format_time(k.created) << "\t"
                    << format_time(k.retired) << "\t" << status << "\n";
        }
        return 0;
      }
      if (*signing_key_rotate) {
        const auto alg = jose::parse_alg(config.tokens.alg);
        if (!alg) throw Failure{2, "tokens.alg: unknown alg " + config.tokens.alg};
        const SystemClock clock;
        const std::string kid = tokens::KeyRing::rotate(*store, *alg, clock);
        std::cout << "new signing key " << kid << " (" << config.tokens.alg << ")\n";
        return 0;
      }
    }
    if (*throttle) {
      const Config config = load(common);
      if (*throttle_show_cmd) {
        auto store = state::open_state_store(config.store_url());
        std::optional<std::string> only;
        if (!throttle_target.empty()) only = throttle_key(throttle_target);
        return throttle_show(config, *store, only);
      }
      if (*throttle_reset) {
        if (throttle_all == !throttle_target.empty()) {
          throw Failure{2, "give either USER|ADDR or --all"};
        }
        auto store = state::open_state_store(config.store_url());
        if (throttle_all) {
          const std::size_t n = store->clear_throttle();
          std::cout << "reset every key (" << n << " with failed logins)\n";
          return 0;
        }
        const std::string key = throttle_key(throttle_target);
        const std::size_t n = store->delete_throttle({key});
        std::cout << "reset " << key << (n == 0 ? " (it had no failed logins recorded)" : "")
                  << "\n";
        return 0;
      }
    }
    if (*apikey) {
      auto store = open_store(common);
      if (*apikey_create) {
        const std::string owner = canonical_user(user_name);
        const auto row = store->find_user(owner);
        if (!row) throw Failure{1, "no such user: " + owner};
        for (const auto& r : roles) {
          if (!std::count(row->roles.begin(), row->roles.end(), r)) {
            throw Failure{
                1, "a key can only narrow its owner's roles; " + owner + " does not have " + r};
          }
        }
        const auto key = auth::generate_api_key();
        state::ApiKeyRow k;
        k.id = key.id;
        k.username = owner;
        k.name = key_name;
        k.secret_hash.assign(reinterpret_cast<const char*>(key.secret_hash.data()),
                             key.secret_hash.size());
        if (!roles.empty()) k.roles = roles;
        k.created = now;
        if (!key_expires.empty()) k.expires = now + parse_seconds(key_expires);
        store->add_api_key(k);
        std::cerr << "API key " << key.id << " for " << owner << " (shown once; store it now):\n";
        std::cout << key.key << "\n";
        return 0;
      }
      if (*apikey_list) {
        std::optional<std::string> owner;
        if (!user_name.empty()) owner = canonical_user(user_name);
        std::cout << "id\tuser\tname\tcreated\tlast_used\texpires\troles\tstatus\n";
        for (const auto& k : store->list_api_keys(owner)) {
          std::cout << k.id << "\t" << k.username << "\t" << k.name << "\t"
                    << format_time(k.created) << "\t" << format_time(k.last_used) << "\t"
                    << format_time(k.expires) << "\t"
                    << (k.roles ? state::join_roles(*k.roles) : "(owner's)") << "\t"
                    << (k.revoked ? "revoked"
                                  : (k.expires && *k.expires <= now ? "expired" : "active"))
                    << "\n";
        }
        return 0;
      }
      if (*apikey_revoke) {
        if (!store->revoke_api_key(key_id, now)) {
          throw Failure{1, "no active API key with id " + key_id};
        }
        std::cout << "revoked " << key_id << "\n";
        return 0;
      }
    }
  } catch (const Failure& f) {
    std::cerr << "gatehouse: " << f.message << "\n";
    return f.code;
  } catch (const ConfigError& e) {
    for (const auto& p : e.problems()) std::cerr << p << "\n";
    return 2;
  } catch (const state::StoreError& e) {
    std::cerr << "gatehouse: store: " << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "gatehouse: " << e.what() << "\n";
    return 1;
  }
  return 2;
}

}  // namespace gatehouse::cli
