#include "app/client_cli.hpp"
#include "gatehouse/http.hpp"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <spawn.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <boost/json.hpp>
#include <boost/url/parse.hpp>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <iterator>
#include <mutex>
#include <sstream>
#include <vector>

#include "client/auth_bearer.hpp"
#include "client/login.hpp"
#include "client/token_cache.hpp"
#include "client/url.hpp"
#include "gatehouse/client.hpp"

extern char** environ;

namespace gatehouse::cli {

// The client's messages, not the server's (gatehouse/http.hpp is included for its string helpers).
using gatehouse::client::Request;
using gatehouse::client::Response;

namespace {

using namespace gatehouse::client;

// A mistake in how the command was called: exit code 2.
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

constexpr std::string_view kMask = "****";

// Masks `name=value` pairs joined by `separator` whose names carry credentials.
std::string mask_pairs(std::string_view text, char separator, bool all) {
  std::string out;
  std::size_t start = 0;
  while (start <= text.size()) {
    auto end = text.find(separator, start);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view pair = text.substr(start, end - start);
    const auto eq = pair.find('=');
    if (eq != std::string_view::npos && (all || detail::is_credential_name(pair.substr(0, eq)))) {
      out.append(pair.substr(0, eq + 1));
      out.append(kMask);
    } else {
      out.append(pair);
    }
    if (end == text.size()) break;
    out.push_back(separator);
    start = end + 1;
  }
  return out;
}

bool mask_json(boost::json::value& v) {
  bool masked = false;
  if (auto* o = v.if_object()) {
    for (auto& member : *o) {
      if (detail::is_credential_name(member.key()) && member.value().is_string()) {
        member.value() = kMask;
        masked = true;
      } else {
        masked = mask_json(member.value()) || masked;
      }
    }
  } else if (auto* a = v.if_array()) {
    for (auto& element : *a) masked = mask_json(element) || masked;
  }
  return masked;
}

// ---------------------------------------------------------------------------------------------
// Terminal and stdin input
// Overwrites a string that held a password or key (OPENSSL_cleanse cannot be optimised away);
// the size stays, so emptiness checks still see what was given.
void wipe(std::string& s) noexcept {
  if (!s.empty()) OPENSSL_cleanse(s.data(), s.size());
}

// The line may be a password: the buffer is reserved up front so that growing it leaves no
// copies of a prefix in freed memory (for lines up to that size).
std::string read_line(std::FILE* in) {
  std::string line;
  line.reserve(1024);
  for (int c; (c = std::fgetc(in)) != EOF && c != '\n';) line.push_back(static_cast<char>(c));
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

// Asks on /dev/tty (echo off for secrets), so stdin and stdout stay free for data.
std::string ask_tty(const std::string& prompt, bool secret) {
  const int fd = ::open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) {
    throw UsageError("no terminal to ask for the " +
                     std::string(secret ? "password" : "user name") +
                     " on; give it on the command line or use --password-stdin");
  }
  std::FILE* tty = ::fdopen(fd, "r+");
  std::setvbuf(tty, nullptr, _IONBF, 0);  // no stdio buffer keeps a copy of the password
  termios old{};
  const bool is_tty = ::tcgetattr(fd, &old) == 0;
  std::fputs(prompt.c_str(), tty);
  std::fflush(tty);
  if (secret && is_tty) {
    termios quiet = old;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    ::tcsetattr(fd, TCSAFLUSH, &quiet);
  }
  std::string value = read_line(tty);
  if (secret && is_tty) {
    ::tcsetattr(fd, TCSAFLUSH, &old);
    std::fputs("\n", tty);
  }
  std::fclose(tty);
  return value;
}

std::string read_file_or_stdin(const std::string& name) {
  if (name == "-") {
    return std::string(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  }
  std::ifstream in(name, std::ios::binary);
  if (!in) throw UsageError("--data: cannot read " + name);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// ---------------------------------------------------------------------------------------------
// The browser: $BROWSER (a ':'-separated list of commands, "%s" standing for the URL, as Python's
// webbrowser and xdg-utils read it) or xdg-open when there is a display. Never waits for it and
// never fails the login: the URL is printed anyway.
std::vector<pid_t> browsers;

bool open_browser(const std::string& url) {
  // The URL comes from the server: only an http(s) URL without white space or controls is
  // handed to a browser (never file:, a custom scheme, or something that reads as an option).
  const auto parsed = boost::urls::parse_absolute_uri(url);
  if (!parsed || (parsed->scheme() != "https" && parsed->scheme() != "http") ||
      std::any_of(url.begin(), url.end(), [](unsigned char c) { return c <= 0x20 || c == 0x7f; })) {
    return false;
  }
  std::vector<std::string> argv;
  if (const char* env = std::getenv("BROWSER"); env != nullptr && env[0] != '\0') {
    std::string first(env);
    first = first.substr(0, first.find(':'));
    std::istringstream words(first);
    bool substituted = false;
    for (std::string w; words >> w;) {
      if (const auto at = w.find("%s"); at != std::string::npos) {
        w.replace(at, 2, url);
        substituted = true;
      }
      argv.push_back(w);
    }
    if (!substituted) argv.push_back(url);
  } else if (std::getenv("DISPLAY") != nullptr || std::getenv("WAYLAND_DISPLAY") != nullptr) {
    argv = {"xdg-open", url};
  }
  if (argv.empty()) return false;
  std::vector<char*> args;
  for (auto& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  // The browser's chatter must not mix with our stdout (a token or a body may be piped).
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  pid_t pid = 0;
  const int rc = ::posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return false;
  browsers.push_back(pid);
  return true;
}

void reap_browsers() {
  for (const pid_t pid : browsers) ::waitpid(pid, nullptr, WNOHANG);
  browsers.clear();
}

// ---------------------------------------------------------------------------------------------
// -v: every request as sent (after the auth flow prepared it) and every response as received,
// secrets masked.
std::mutex verbose_mutex;

std::string request_target(const std::string& url) {
  const auto parsed = boost::urls::parse_absolute_uri(url);
  if (!parsed) return url;
  std::string target(parsed->encoded_path());
  if (target.empty()) target = "/";
  if (parsed->has_query()) target += "?" + std::string(parsed->encoded_query());
  return target;
}

std::string host_of(const std::string& url) {
  const auto parsed = boost::urls::parse_absolute_uri(url);
  if (!parsed) return {};
  std::string host(parsed->encoded_host_and_port());
  return host;
}

void print_request(const Request& request) {
  std::lock_guard lock(verbose_mutex);
  std::cerr << "> " << request.method << " " << mask_url(request_target(request.url))
            << " HTTP/1.1\n> Host: " << host_of(request.url) << "\n";
  for (const auto& [name, value] : request.headers) {
    std::cerr << "> " << name << ": " << mask_header(name, value) << "\n";
  }
  std::cerr << ">\n";
  if (!request.body.empty()) std::cerr << mask_body(request.body) << "\n";
  std::cerr.flush();
}

void print_response(const Response& response) {
  std::lock_guard lock(verbose_mutex);
  std::cerr << "< HTTP/1.1 " << response.status
            << (response.reason.empty() ? "" : " " + response.reason) << "\n";
  for (const auto& [name, value] : response.headers) {
    std::cerr << "< " << name << ": " << mask_header(name, value) << "\n";
  }
  std::cerr << "<\n";
  std::cerr.flush();
}

class VerboseFlow final : public AuthFlow {
 public:
  explicit VerboseFlow(std::unique_ptr<AuthFlow> inner) : inner_(std::move(inner)) {}
  void prepare(Request& request) override {
    inner_->prepare(request);
    print_request(request);
  }
  Next on_response(Request& request, Response& response) override {
    print_response(response);
    return inner_->on_response(request, response);
  }

 private:
  std::unique_ptr<AuthFlow> inner_;
};

class VerboseAuth final : public Auth {
 public:
  explicit VerboseAuth(std::shared_ptr<Auth> inner) : inner_(std::move(inner)) {}
  std::unique_ptr<AuthFlow> start(const Request& request) override {
    return std::make_unique<VerboseFlow>(inner_->start(request));
  }
  void async_renew(Client& client, const Request& failed,
                   std::function<void(std::exception_ptr)> done) override {
    inner_->async_renew(client, failed, std::move(done));
  }

 private:
  std::shared_ptr<Auth> inner_;
};

}  // namespace

// ---------------------------------------------------------------------------------------------
std::string mask_header(std::string_view name, std::string_view value) {
  const std::string n = ascii_lower(name);
  if (n == "authorization" || n == "proxy-authorization") {
    const auto space = value.find(' ');
    if (space == std::string_view::npos) return std::string(kMask);
    return std::string(value.substr(0, space)) + " " + std::string(kMask);
  }
  if (n == "cookie") {
    std::string out;
    std::size_t start = 0;
    while (start < value.size()) {
      auto end = value.find(';', start);
      if (end == std::string_view::npos) end = value.size();
      std::string_view pair = value.substr(start, end - start);
      while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
      if (!out.empty()) out += "; ";
      const auto eq = pair.find('=');
      out += std::string(pair.substr(0, eq == std::string_view::npos ? pair.size() : eq)) + "=" +
             std::string(kMask);
      start = end + 1;
    }
    return out;
  }
  if (n == "set-cookie") {
    const auto semi = value.find(';');
    const std::string_view pair = value.substr(0, semi);
    const auto eq = pair.find('=');
    std::string out = std::string(pair.substr(0, eq == std::string_view::npos ? 0 : eq)) + "=" +
                      std::string(kMask);
    if (semi != std::string_view::npos) out += std::string(value.substr(semi));
    return out;
  }
  if (n == "x-api-key" || n == "api-key" || n == "x-auth-token" || n == "x-access-token" ||
      n == "x-csrf-token") {
    return std::string(kMask);
  }
  return std::string(value);
}

std::string mask_url(std::string_view url) {
  std::string out;
  std::string_view rest = url;
  if (const auto scheme_end = rest.find("://"); scheme_end != std::string_view::npos) {
    out.append(rest.substr(0, scheme_end + 3));
    rest.remove_prefix(scheme_end + 3);
    const auto authority_end = rest.find_first_of("/?#");
    const std::string_view authority = rest.substr(0, authority_end);
    if (const auto at = authority.rfind('@'); at != std::string_view::npos) {
      const std::string_view userinfo = authority.substr(0, at);
      const auto colon = userinfo.find(':');
      out.append(userinfo.substr(0, colon));
      if (colon != std::string_view::npos) out.append(":").append(kMask);
      out.append(authority.substr(at));
    } else {
      out.append(authority);
    }
    rest.remove_prefix(authority.size());
  }
  const auto query = rest.find('?');
  if (query == std::string_view::npos) return out.append(rest);
  out.append(rest.substr(0, query + 1));
  rest.remove_prefix(query + 1);
  const auto fragment = rest.find('#');
  out += mask_pairs(rest.substr(0, fragment), '&', false);
  if (fragment != std::string_view::npos) out.append(rest.substr(fragment));
  return out;
}

std::string mask_body(std::string_view body) {
  boost::system::error_code ec;
  auto value = boost::json::parse(body, ec);
  if (!ec) {
    if (!mask_json(value)) return std::string(body);
    return boost::json::serialize(value);
  }
  // An application/x-www-form-urlencoded body: one line of name=value pairs.
  const bool form = body.find('=') != std::string_view::npos &&
                    std::none_of(body.begin(), body.end(), [](unsigned char c) {
                      return c == ' ' || c == '\n' || c == '\r' || c == '\t';
                    });
  if (form) return mask_pairs(body, '&', false);
  return std::string(body);
}

std::optional<std::string> pretty_json(std::string_view body) {
  boost::system::error_code ec;
  boost::json::parse(body, ec);
  if (ec) return std::nullopt;
  // Re-indents the text itself rather than re-serializing the parsed value, so numbers keep
  // their exact spelling (Boost.JSON would print 1.0 as 1E0).
  std::string out;
  int depth = 0;
  const auto newline = [&] {
    out.push_back('\n');
    out.append(static_cast<std::size_t>(depth) * 2, ' ');
  };
  const auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  for (std::size_t i = 0; i < body.size(); ++i) {
    const char c = body[i];
    switch (c) {
      case '"': {
        const std::size_t start = i;
        for (++i; i < body.size() && body[i] != '"'; ++i) {
          if (body[i] == '\\') ++i;
        }
        out.append(body.substr(start, i - start + 1));
        break;
      }
      case '{':
      case '[': {
        std::size_t j = i + 1;
        while (j < body.size() && is_space(body[j])) ++j;
        if (j < body.size() && (body[j] == '}' || body[j] == ']')) {
          out.push_back(c);
          out.push_back(body[j]);
          i = j;
        } else {
          out.push_back(c);
          ++depth;
          newline();
        }
        break;
      }
      case '}':
      case ']':
        --depth;
        newline();
        out.push_back(c);
        break;
      case ',':
        out.push_back(',');
        newline();
        break;
      case ':':
        out += ": ";
        break;
      case ' ':
      case '\t':
      case '\n':
      case '\r':
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
struct ClientCommands::State {
  CLI::App* login = nullptr;
  CLI::App* logout = nullptr;
  CLI::App* request = nullptr;

  // shared
  std::string url;
  std::string user;
  std::string cacert;
  bool insecure = false;
  double timeout_s = 0;
  // Negotiate
  std::string mutual = "disabled";
  bool opportunistic = false;
  bool delegate = false;
  std::string target_name;
  std::string principal;
  std::string ccache;
  std::string mech = "spnego";
  bool no_sanitize = false;
  // login
  bool password = false;
  bool password_stdin = false;
  bool device = false;
  bool negotiate = false;
  bool no_browser = false;
  std::string client_id = "gatehouse-cli";
  std::string scope = "openid";
  // logout
  bool forget = false;
  // request
  std::vector<std::string> positional;
  std::string auth;
  std::string api_key;
  std::vector<std::string> headers;
  std::string data;
  bool json = false;
  bool verbose = false;
  bool no_follow = false;

  int run_login();
  int run_logout();
  int run_request();

  Options options() const;
  NegotiateOptions negotiate_options() const;
};

namespace {

void add_connection_options(CLI::App* sub, std::string& cacert, bool& insecure, double& timeout_s) {
  sub->add_option("--cacert", cacert, "PEM file of CA certificates to trust (default: system)");
  sub->add_flag("--insecure", insecure, "do not verify the server's TLS certificate or name");
  sub->add_option("--timeout", timeout_s, "seconds per request (default 30)")
      ->check(CLI::PositiveNumber);
}

std::string checked_origin(const std::string& url) {
  try {
    return origin_of(url);
  } catch (const RequestError& e) {
    throw UsageError(e.what());
  }
}

// httpie's shorthands: a URL without a scheme is http://, and ":PORT/path" is on localhost.
std::string with_scheme(const std::string& url) {
  if (url.find("://") != std::string::npos) return url;
  if (url.starts_with(':')) return "http://localhost" + url;
  return "http://" + url;
}

}  // namespace

Options ClientCommands::State::options() const {
  Options o = options_from_environment();
  if (!cacert.empty()) o.ca_file = cacert;
  if (insecure) o.verify_tls = false;
  if (timeout_s > 0) {
    o.timeout = std::chrono::milliseconds(static_cast<std::int64_t>(timeout_s * 1000));
    o.connect_timeout = std::min(o.connect_timeout, o.timeout);
  }
  o.follow_redirects = !no_follow;
  return o;
}

NegotiateOptions ClientCommands::State::negotiate_options() const {
  NegotiateOptions n;
  n.mutual_authentication = mutual == "required"   ? MutualAuthentication::required
                            : mutual == "optional" ? MutualAuthentication::optional
                                                   : MutualAuthentication::disabled;
  n.sanitize_mutual_error_response = !no_sanitize;
  n.opportunistic_auth = opportunistic;
  n.delegate = delegate;
  n.target_name = target_name;
  n.principal = principal;
  n.ccache = ccache;
  n.mechanism = mech == "krb5" ? Mechanism::krb5 : Mechanism::spnego;
  return n;
}

ClientCommands::ClientCommands(CLI::App& app) : state_(std::make_unique<State>()) {
  State& s = *state_;
  const auto add_negotiate = [&s](CLI::App* sub) {
    sub->add_option("--mutual", s.mutual,
                    "Negotiate mutual authentication: required, optional or disabled (default)")
        ->check(CLI::IsMember({"required", "optional", "disabled"}));
    sub->add_flag("--opportunistic", s.opportunistic,
                  "Negotiate: send a token with the first request, before any 401");
    sub->add_flag("--delegate", s.delegate, "Negotiate: delegate the Kerberos credentials");
    sub->add_option("--target-name", s.target_name,
                    "Negotiate: service name (default HTTP@<host>; a name without '@' is a "
                    "service at the URL's host)");
    sub->add_option("--principal", s.principal,
                    "Negotiate: client principal to use (default: the credential cache's)");
    sub->add_option("--ccache", s.ccache, "Negotiate: credential cache, e.g. FILE:/path");
    sub->add_option("--mech", s.mech, "Negotiate mechanism: spnego (default) or krb5")
        ->check(CLI::IsMember({"spnego", "krb5"}));
    sub->add_flag("--no-sanitize", s.no_sanitize,
                  "Negotiate: keep error responses that fail mutual authentication as they are");
  };

  s.login = app.add_subcommand("login", "log in to a server and cache its tokens");
  s.login->add_option("URL", s.url, "the server (gatehouse base URL, or an OAuth/OIDC issuer)")
      ->required();
  s.login->add_flag("--password", s.password, "user name and password (prompted; the default)");
  s.login->add_flag("--password-stdin", s.password_stdin, "read the password from stdin");
  s.login->add_flag("--device", s.device, "RFC 8628 device login (approve in a browser)");
  s.login->add_flag("--negotiate", s.negotiate, "log in with Kerberos (Negotiate)");
  s.login->add_option("-u,--user", s.user, "user name (prompted when missing)");
  s.login->add_option("--client-id", s.client_id, "OAuth client id for --device")
      ->capture_default_str();
  s.login->add_option("--scope", s.scope, "OAuth scope for --device")->capture_default_str();
  s.login->add_flag("--no-browser", s.no_browser, "--device: do not open a browser");
  add_negotiate(s.login);
  add_connection_options(s.login, s.cacert, s.insecure, s.timeout_s);

  s.logout = app.add_subcommand("logout", "end the session at a server and forget its tokens");
  s.logout->add_option("URL", s.url, "the server")->required();
  s.logout->add_flag("--forget", s.forget,
                     "delete the cached tokens even when the server cannot be told");
  add_connection_options(s.logout, s.cacert, s.insecure, s.timeout_s);

  s.request = app.add_subcommand("request", "send an HTTP request (httpie-like)");
  s.request
      ->add_option("METHOD URL", s.positional, "[METHOD] URL (METHOD: GET, or POST with --data)")
      ->required()
      ->expected(1, 2);
  s.request
      ->add_option("--auth", s.auth,
                   "basic, digest, bearer, apikey, negotiate, auto or none (default: bearer with "
                   "cached tokens, auto with -u, apikey with --api-key)")
      ->check(CLI::IsMember({"basic", "digest", "bearer", "apikey", "negotiate", "auto", "none"}));
  s.request->add_option("-u,--user", s.user,
                        "USER[:PASSWORD] (the password is prompted if absent)");
  s.request->add_option("--api-key", s.api_key, "API key (default: $GATEHOUSE_API_KEY)");
  s.request->add_option("-H,--header", s.headers, "'Name: value' (repeatable)")
      ->allow_extra_args(false);
  s.request->add_option("--data", s.data, "request body; @FILE reads a file, @- stdin");
  s.request->add_flag("--json", s.json,
                      "send and accept application/json (and check that --data is JSON)");
  s.request->add_flag("-v,--verbose", s.verbose,
                      "print request and response headers to stderr (secrets masked)");
  s.request->add_flag("--no-follow", s.no_follow, "do not follow redirects");
  add_negotiate(s.request);
  add_connection_options(s.request, s.cacert, s.insecure, s.timeout_s);
}

ClientCommands::~ClientCommands() = default;

std::optional<int> ClientCommands::run() {
  State& s = *state_;
  if (!*s.login && !*s.logout && !*s.request) return std::nullopt;
  try {
    if (*s.login) return s.run_login();
    if (*s.logout) return s.run_logout();
    return s.run_request();
  } catch (const UsageError& e) {
    std::cerr << "gatehouse: " << e.what() << "\n";
    return 2;
  } catch (const RequestError& e) {
    std::cerr << "gatehouse: " << e.what() << "\n";
    return 2;
  } catch (const MutualAuthenticationError& e) {
    std::cerr << "gatehouse: MutualAuthenticationError: " << e.what() << "\n";
    return 1;
  } catch (const SpnegoExchangeError& e) {
    std::cerr << "gatehouse: SpnegoExchangeError: " << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "gatehouse: " << e.what() << "\n";
    return 1;
  }
}

int ClientCommands::State::run_login() {
  url = with_scheme(url);
  const std::string origin = checked_origin(url);
  if (int(password) + int(password_stdin) + int(device) + int(negotiate) > 1) {
    throw UsageError("choose one of --password, --password-stdin, --device, --negotiate");
  }
  const TokenCache cache = TokenCache::from_environment();
  Client client(options());
  CachedTokens tokens;
  if (device) {
    SystemPollClock clock;
    const auto show = [this](const DeviceAuthorization& a) {
      // Server-chosen text goes to a terminal: control characters (escape sequences) become '?'.
      const auto printable = [](std::string text) {
        for (char& c : text) {
          if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
        }
        return text;
      };
      const std::string& open =
          a.verification_uri_complete.empty() ? a.verification_uri : a.verification_uri_complete;
      std::cerr << "To log in, open " << printable(open) << "\n";
      if (!a.verification_uri_complete.empty()) {
        std::cerr << "or go to " << printable(a.verification_uri) << " and enter the code\n";
      }
      std::cerr << "code: " << printable(a.user_code) << " (valid for " << a.expires_in / 60
                << " min " << a.expires_in % 60 << " s)\n";
      std::cerr.flush();
      if (!no_browser && open_browser(open)) std::cerr << "(opened a browser)\n";
    };
    tokens = device_login(client, url, {client_id, scope}, show, clock);
    reap_browsers();
  } else if (negotiate) {
    tokens = negotiate_login(client, url, negotiate_options(), SystemPollClock{}.unix_now_s());
  } else {
    if (user.empty()) {
      if (password_stdin) throw UsageError("--password-stdin needs -u USER");
      user = ask_tty("User name for " + origin + ": ", false);
      if (user.empty()) throw UsageError("the user name is empty");
    }
    std::string typed =
        password_stdin ? read_line(stdin) : ask_tty("Password for " + user + ": ", true);
    const Secret secret(typed);
    wipe(typed);
    if (secret.empty()) throw UsageError("the password is empty");
    tokens = password_login(client, url, user, secret, SystemPollClock{}.unix_now_s());
  }
  {
    // Under the lock: a command refreshing the previous session's tokens meanwhile either
    // stores before this (and is overwritten) or sees these tokens and adopts them.
    const TokenCache::Lock lock = cache.lock(url);
    cache.store(url, tokens);
  }
  std::cerr << "logged in to " << url << (tokens.user.empty() ? "" : " as " + tokens.user) << "\n";
  return 0;
}

int ClientCommands::State::run_logout() {
  url = with_scheme(url);
  const std::string origin = checked_origin(url);
  const TokenCache cache = TokenCache::from_environment();
  const auto tokens = cache.load(url);
  if (!tokens) {
    std::cerr << "gatehouse: not logged in to " << origin << "\n";
    return 1;
  }
  Client client(options());
  std::string note;
  try {
    note = client::logout(client, url, *tokens);
  } catch (const std::exception& e) {
    if (!forget) {
      std::cerr << "gatehouse: logout failed: " << e.what() << "; the tokens stay in "
                << cache.file_for(url).string() << " (--forget deletes them anyway)\n";
      return 1;
    }
    note = std::string("the server was not told: ") + e.what();
  }
  {
    const TokenCache::Lock lock = cache.lock(url);
    cache.remove(url);
  }
  if (!note.empty()) std::cerr << "gatehouse: " << note << "\n";
  std::cerr << "logged out of " << origin << "\n";
  return 0;
}

int ClientCommands::State::run_request() {
  std::string method = "GET";
  if (positional.size() == 2) {
    method = positional[0];
    std::transform(method.begin(), method.end(), method.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    if (!detail::is_token(method))
      throw UsageError("\"" + positional[0] + "\" is not an HTTP method");
    url = positional[1];
  } else {
    url = positional[0];
    if (!data.empty()) method = "POST";
  }
  url = with_scheme(url);
  const std::string origin = checked_origin(url);

  Request request;
  request.method = method;
  request.url = url;

  // The body.
  if (!data.empty()) {
    request.body = data.starts_with('@') ? read_file_or_stdin(data.substr(1)) : data;
  }
  Headers defaults;
  if (json) {
    if (!request.body.empty()) {
      boost::system::error_code ec;
      boost::json::parse(request.body, ec);
      if (ec) throw UsageError("--data is not valid JSON (" + ec.message() + ")");
    }
    defaults.emplace_back("Content-Type", "application/json");
    defaults.emplace_back("Accept", "application/json, */*;q=0.5");
  } else if (!request.body.empty()) {
    boost::system::error_code ec;
    boost::json::parse(request.body, ec);
    defaults.emplace_back("Content-Type",
                          ec ? "application/x-www-form-urlencoded" : "application/json");
  }
  Headers given;
  for (const auto& h : headers) {
    const auto colon = h.find(':');
    const std::string name = h.substr(0, colon);
    if (colon == std::string::npos || !detail::is_token(name)) {
      throw UsageError("-H \"" + h + "\": expected 'Name: value'");
    }
    std::string value = h.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.erase(0, 1);
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.pop_back();
    if (value.find_first_of("\r\n", 0) != std::string::npos ||
        value.find('\0') != std::string::npos) {
      throw UsageError("-H " + name + ": a header value cannot contain CR, LF or NUL");
    }
    given.emplace_back(name, std::move(value));
  }
  for (const auto& [name, value] : defaults) {
    const bool overridden = std::any_of(given.begin(), given.end(), [&](const auto& g) {
      return iequals(g.first, name);
    });
    if (!overridden) request.headers.emplace_back(name, value);
  }
  for (auto& g : given) request.headers.push_back(std::move(g));

  // Credentials.
  std::string user_name = user;
  std::optional<Secret> password;
  if (const auto colon = user.find(':'); colon != std::string::npos) {
    user_name = user.substr(0, colon);
    password = Secret(std::string_view(user).substr(colon + 1));
    OPENSSL_cleanse(user.data() + colon + 1, user.size() - colon - 1);
  }
  // $GATEHOUSE_API_KEY is used only with an explicit --auth apikey: a key in the environment must
  // not go to whatever host a later command names.
  std::optional<Secret> key;
  if (!api_key.empty()) {
    key = Secret(api_key);
    wipe(api_key);
  } else if (const char* env = std::getenv("GATEHOUSE_API_KEY");
             auth == "apikey" && env != nullptr && *env != '\0') {
    key = Secret(env);
  }
  const auto cache_for_bearer = [&]() -> std::optional<CachedTokens> {
    return TokenCache::from_environment().load(url);
  };

  std::string mode = auth;
  std::optional<CachedTokens> cached;
  if (mode.empty()) {
    if (!user.empty()) {
      mode = "auto";
    } else if (!api_key.empty()) {
      mode = "apikey";
    } else if ((cached = cache_for_bearer())) {
      mode = "bearer";
    } else {
      mode = "none";
    }
  }
  const bool wants_password = mode == "basic" || mode == "digest" || mode == "auto";
  if (!user.empty() && !wants_password) {
    throw UsageError("-u is for --auth basic, digest or auto, not " + mode);
  }
  if ((mode == "basic" || mode == "digest") && user.empty()) {
    throw UsageError("--auth " + mode + " needs -u USER[:PASSWORD]");
  }
  if (wants_password && !user.empty() && !password) {
    std::string typed = ask_tty("Password for " + user_name + ": ", true);
    password = Secret(typed);
    wipe(typed);
  }

  const auto make_bearer = [&](const CachedTokens& tokens) {
    // Another command may hold the same tokens. Before refreshing, the origin's cache lock is
    // taken and the cache read again: when it holds other tokens than ours, that command has
    // refreshed (the refresh token we hold is spent; sending it again would look like token
    // theft to the server and revoke the session), so its tokens are used instead. Otherwise
    // the lock stays held until the refreshed tokens are stored, so the next command uses them.
    // Both hooks run on the client's I/O thread, one after the other.
    struct Shared {
      TokenCache cache;
      std::string url;
      CachedTokens meta;
    };
    auto shared = std::make_shared<Shared>(Shared{TokenCache::from_environment(), url, tokens});
    auto before_refresh = [shared](const TokenSet& current) {
      client::detail::RefreshGate gate;
      try {
        gate.hold = std::make_shared<TokenCache::Lock>(shared->cache.lock(shared->url));
      } catch (const std::exception& e) {
        std::cerr << "gatehouse: warning: refreshing without the token cache's lock: " << e.what()
                  << "\n";
        return gate;
      }
      try {
        if (auto cached = shared->cache.load(shared->url)) {
          const TokenSet& theirs = cached->tokens;
          if (!theirs.access_token.empty() &&
              (!theirs.refresh_token.equals(current.refresh_token.reveal()) ||
               !theirs.access_token.equals(current.access_token.reveal()))) {
            gate.fresher = theirs;
            shared->meta = std::move(*cached);
          }
        }
      } catch (const std::exception& e) {
        std::cerr << "gatehouse: warning: the token cache could not be read again: " << e.what()
                  << "\n";
      }
      return gate;
    };
    auto on_refreshed = [shared](const TokenSet& t) {
      try {
        CachedTokens updated = shared->meta;
        updated.tokens = t;
        shared->cache.store(shared->url, updated);
      } catch (const std::exception& e) {
        std::cerr << "gatehouse: warning: the refreshed tokens could not be cached: " << e.what()
                  << "\n";
      }
    };
    return client::detail::bearer_auth_with_gate(tokens.tokens, std::move(on_refreshed),
                                                 std::move(before_refresh));
  };

  std::shared_ptr<Auth> chosen;
  if (mode == "none") {
    chosen = no_auth();
  } else if (mode == "basic") {
    chosen = basic_auth(user_name, *password);
  } else if (mode == "digest") {
    chosen = digest_auth(user_name, *password);
  } else if (mode == "apikey") {
    if (!key) throw UsageError("--auth apikey needs --api-key KEY or $GATEHOUSE_API_KEY");
    chosen = api_key_auth(*key);
  } else if (mode == "bearer") {
    if (!cached) cached = cache_for_bearer();
    if (!cached) {
      std::cerr << "gatehouse: not logged in to " << origin << ": run gatehouse login " << origin
                << "\n";
      return 1;
    }
    chosen = make_bearer(*cached);
  } else if (mode == "negotiate") {
    chosen = negotiate_auth(negotiate_options());
  } else {  // auto
    AutoCredentials credentials;
    credentials.user = user_name;
    credentials.password = password;
    credentials.api_key = key;
    credentials.negotiate = negotiate_options();
    if (auth == "auto" && user.empty()) {
      if (auto tokens = cache_for_bearer()) credentials.bearer = make_bearer(*tokens);
    }
    chosen = auto_auth(std::move(credentials));
  }
  request.auth = verbose ? std::make_shared<VerboseAuth>(chosen) : chosen;

  Client client(options());
  Response response = client.send(std::move(request));

  if (!response.body.empty()) {
    if (::isatty(STDOUT_FILENO)) {
      if (auto pretty = pretty_json(response.body)) {
        std::cout << *pretty << "\n";
      } else {
        std::cout << response.body;
        if (response.body.back() != '\n') std::cout << "\n";
      }
    } else {
      std::cout.write(response.body.data(), static_cast<std::streamsize>(response.body.size()));
    }
    std::cout.flush();
  }
  const bool ok = (response.status >= 200 && response.status < 300) ||
                  (no_follow && response.status >= 300 && response.status < 400);
  if (!ok) {
    std::cerr << "gatehouse: HTTP " << response.status
              << (response.reason.empty() ? "" : " " + response.reason) << "\n";
    return 1;
  }
  return 0;
}

}  // namespace gatehouse::cli
