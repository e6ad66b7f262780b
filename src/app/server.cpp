// gatehouse::Server: builds the pipeline from a Config and runs it (the embedding API).
#include "gatehouse/server.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <condition_variable>
#include <map>
#include <thread>

#include "app/token_routes.hpp"
#include "app/tracker_routes.hpp"
#include "auth/api_key.hpp"
#include "auth/credential_cache.hpp"
#include "auth/identity_json.hpp"
#include "auth/password_check.hpp"
#include "auth/worker_pool.hpp"
#include "guard/failed_login.hpp"
#include "guard/throttle_sync.hpp"
#include "http/access_log.hpp"
#include "http/metrics.hpp"
#include "http/pipeline.hpp"
#include "http/router.hpp"
#include "net/http_server.hpp"
#include "schemes/apikey.hpp"
#include "schemes/basic.hpp"
#include "schemes/bearer.hpp"
#include "schemes/digest.hpp"
#include "state/state_store.hpp"
#include "stores/db_store.hpp"
#include "stores/htdigest_store.hpp"
#include "stores/htpasswd_store.hpp"
#include "stores/static_store.hpp"
#include "stores/unix_store.hpp"
#include "tokens/token_service.hpp"
#include "tracker/schema.hpp"
#include "tracker/tracker.hpp"
#include "util/clock.hpp"
#include "util/encoding.hpp"
#include "util/log.hpp"

namespace gatehouse {

namespace {

int cores() {
  return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

bool scheme_enabled(const Config& c, std::string_view scheme) {
  return std::find(c.auth.schemes.begin(), c.auth.schemes.end(), scheme) != c.auth.schemes.end();
}

bool needs_database(const Config& c) {
  // API keys, sessions, signing keys and tracker items live in the database.
  if (scheme_enabled(c, "apikey") || scheme_enabled(c, "bearer") || !c.trackers.empty())
    return true;
  const auto enabled = [&c](std::string_view scheme) { return scheme_enabled(c, scheme); };
  const auto uses_db = [](const std::vector<std::string>& stores) {
    return std::find(stores.begin(), stores.end(), "db") != stores.end();
  };
  return (enabled("basic") && uses_db(c.auth.basic.stores)) ||
         (enabled("digest") && uses_db(c.auth.digest.stores));
}

}  // namespace

struct Server::Impl {
  Config config;
  SystemClock clock;
  std::shared_ptr<state::StateStore> state;
  std::shared_ptr<stores::DbStore> db;
  std::map<std::string, StorePtr, std::less<>> stores;
  std::string server_secret;

  http::Router router;
  // The failed-login limiter every scheme and endpoint shares (SPEC §10), and its link to the
  // state store (null without a database: the limiter then lives in memory only).
  std::unique_ptr<guard::FailedLoginLimiter> limiter;
  std::unique_ptr<guard::ThrottleSync> throttle_sync;
  std::unique_ptr<auth::WorkerPool> pool;
  std::unique_ptr<auth::CredentialCache> cache;
  std::unique_ptr<auth::PasswordCheck> passwords;
  std::unique_ptr<auth::ApiKeyVerifier> api_keys;
  std::vector<StorePtr> login_chain;  // the password stores: Basic and /auth/login
  std::unique_ptr<tokens::TokenService> tokens;
  app::TokenContext token_context;
  std::vector<std::unique_ptr<app::TrackerContext>> trackers;
  std::unique_ptr<http::Authenticator> authenticator;
  http::Guard guard;
  std::unique_ptr<http::Metrics> metrics;
  std::unique_ptr<http::AccessLog> access_log;
  std::unique_ptr<http::Pipeline> pipeline;
  std::unique_ptr<net::HttpServer> net;

  std::thread refresher;
  std::mutex refresher_mutex;
  std::condition_variable refresher_cv;
  bool refresher_stop = false;
  std::uint64_t refresh_requested = 0;  // sync_stores() asks for a pass...
  std::uint64_t refresh_done = 0;       // ...and waits until one that began after it ends

  // Makes the refresher run a pass now and waits for it (bounded): after a request changed the
  // database, the next request sees the change.
  void sync_stores() {
    std::unique_lock lock(refresher_mutex);
    if (!refresher.joinable() || refresher_stop) return;
    const std::uint64_t ticket = ++refresh_requested;
    refresher_cv.notify_all();
    refresher_cv.wait_for(lock, std::chrono::seconds(2),
                          [&] { return refresh_done >= ticket || refresher_stop; });
  }

  void open_stores() {
    if (needs_database(config)) {
      state = state::open_state_store(config.store_url());
      db = std::make_shared<stores::DbStore>(state, clock);
      stores.emplace("db", db);
      server_secret = state->server_secret();
    } else {
      server_secret = util::random_bytes(32);
    }
    std::vector<std::string> problems;
    for (const auto& name : config.auth.basic.stores) {
      if (name.starts_with("htpasswd:") && !stores.contains(name)) {
        try {
          stores.emplace(name, std::make_shared<stores::HtpasswdStore>(
                                   name.substr(std::string_view("htpasswd:").size()),
                                   config.auth.htpasswd_roles));
        } catch (const std::exception& e) {
          problems.push_back(config.source + ": auth.basic.stores: " + e.what());
        }
      }
    }
    for (const auto& name : config.auth.digest.stores) {
      if (name.starts_with("htdigest:") && !stores.contains(name)) {
        try {
          stores.emplace(name, std::make_shared<stores::HtdigestStore>(
                                   name.substr(std::string_view("htdigest:").size()),
                                   config.auth.htpasswd_roles));
        } catch (const std::exception& e) {
          problems.push_back(config.source + ": auth.digest.stores: " + e.what());
        }
      }
    }
    if (std::find(config.auth.basic.stores.begin(), config.auth.basic.stores.end(), "unix") !=
        config.auth.basic.stores.end()) {
      try {
        stores.emplace("unix", std::make_shared<stores::UnixStore>(config.auth.htpasswd_roles,
                                                                   "/etc/shadow", clock));
      } catch (const std::exception& e) {
        problems.push_back(config.source + ": auth.basic.stores: " + e.what() +
                           " (the server needs read access to it: root or group shadow)");
      }
    }
    if (!config.auth.static_users.empty()) {
      try {
        stores.emplace("static", std::make_shared<stores::StaticStore>(config.auth.static_users));
      } catch (const std::exception& e) {
        problems.push_back(config.source + ": auth.static.users: " + e.what());
      }
    }
    for (const TrackerConfig& t : config.trackers) {
      try {
        auto context = std::make_unique<app::TrackerContext>();
        context->config = &config;
        context->server_secret = server_secret;
        context->tracker = std::make_unique<tracker::Tracker>(
            t.name, tracker::load_schema(t.schema), state, clock);
        context->tracker->load(t.demo_data);
        trackers.push_back(std::move(context));
      } catch (const state::StoreError&) {
        throw;
      } catch (const std::exception& e) {
        problems.push_back(config.source + ": tracker." + t.name + ".schema: " + e.what());
      }
    }
    if (!problems.empty()) throw ConfigError(std::move(problems));
  }

  void add_builtin_routes() {
    router.add("GET", "/healthz", Access::anyone(), [](const Request&, const Identity*) {
      return Response::json(200, R"({"status":"ok"})");
    });
    router.add("GET", "/metrics", Access::anyone(), [this](const Request&, const Identity*) {
      return Response::text(200, metrics->render(), "text/plain; version=0.0.4; charset=utf-8");
    });
    router.add("GET", "/auth/whoami", Access::authenticated(),
               [](const Request&, const Identity* who) {
                 return Response::json(200, auth::identity_json(*who));
               });
    // Forward authentication for nginx auth_request / Traefik ForwardAuth.
    router.add("GET", "/auth/verify", Access::authenticated(),
               [](const Request&, const Identity* who) {
                 auto r = Response::json(200, auth::identity_json(*who));
                 r.set("X-Auth-User", who->subject);
                 r.set("X-Auth-Roles", state::join_roles(who->roles));
                 r.set("Cache-Control", "no-store");
                 return r;
               });
    if (scheme_enabled(config, "bearer")) {
      token_context.config = &config;
      token_context.clock = &clock;
      token_context.state = state;
      token_context.sync_stores = [this] { sync_stores(); };
      app::add_token_routes(router, token_context);
    }
    for (auto& context : trackers) app::add_tracker_routes(router, *context);
    if (config.compat.auth_adventures) {
      router.add("GET", "/data", Access::authenticated(), [](const Request&, const Identity* who) {
        boost::json::object o;
        o["data"] = boost::json::array{1, 2, 3};
        o["who_am_i"] = who->subject;
        return Response::json(200, boost::json::serialize(o));
      });
    }
  }

  std::vector<StorePtr> chain_for(const std::vector<std::string>& names, StoreCapability need,
                                  std::string_view key) {
    std::vector<StorePtr> chain;
    std::vector<std::string> problems;
    for (const auto& name : names) {
      const auto it = stores.find(name);
      if (it == stores.end()) {
        problems.push_back(config.source + ": " + std::string(key) + ": no store named \"" + name +
                           "\"");
      } else if (!it->second->can(need)) {
        problems.push_back(config.source + ": " + std::string(key) + ": store \"" + name +
                           (need == StoreCapability::digest_ha1 ? "\" cannot give the Digest HA1"
                                                                : "\" cannot verify passwords"));
      } else {
        chain.push_back(it->second);
      }
    }
    if (!problems.empty()) throw ConfigError(problems);
    return chain;
  }

  void build_limiter() {
    limiter =
        std::make_unique<guard::FailedLoginLimiter>(guard::ThrottleLimits::from(config.guard));
    if (state) {
      throttle_sync = std::make_unique<guard::ThrottleSync>(*limiter, *state, clock);
      throttle_sync->load();  // a restart keeps locked keys locked
    }
  }

  // One refresher pass's share: flush what was counted, pick up resets from the CLI.
  void sync_throttle() noexcept {
    if (!throttle_sync) return;
    try {
      throttle_sync->sync();
    } catch (const std::exception& e) {
      util::diag().warn("throttle state not synchronized with the store: {}", e.what());
    }
  }

  void build_pipeline() {
    const auto& auth_config = config.auth;
    build_limiter();
    pool = std::make_unique<auth::WorkerPool>(
        config.server.workers > 0 ? config.server.workers : cores(),
        static_cast<std::size_t>(config.server.hash_queue));
    cache = std::make_unique<auth::CredentialCache>(
        server_secret, auth_config.basic.cache_ttl.count(), auth_config.basic.cache_entries, clock);

    std::vector<StorePtr> key_stores;
    for (const auto& [name, store] : stores) {
      if (store->can(StoreCapability::api_key)) key_stores.push_back(store);
    }
    api_keys = std::make_unique<auth::ApiKeyVerifier>(std::move(key_stores), clock, limiter.get());

    if (scheme_enabled(config, "basic") || scheme_enabled(config, "bearer")) {
      login_chain =
          chain_for(auth_config.basic.stores, StoreCapability::password, "auth.basic.stores");
      passwords =
          std::make_unique<auth::PasswordCheck>(login_chain, *pool, *cache, clock, limiter.get());
    }
    if (scheme_enabled(config, "bearer")) build_tokens();
    for (auto& context : trackers) context->pool = pool.get();

    std::vector<std::unique_ptr<Scheme>> schemes;
    for (const auto& name : auth_config.schemes) {
      if (name == "apikey") {
        schemes.push_back(std::make_unique<schemes::ApiKeyScheme>(
            auth_config.realm, *api_keys, auth_config.apikey.header, auth_config.apikey.query));
      } else if (name == "bearer") {
        schemes.push_back(std::make_unique<schemes::BearerScheme>(auth_config.realm, *tokens));
      } else if (name == "basic") {
        schemes.push_back(std::make_unique<schemes::BasicScheme>(
            auth_config.realm, *passwords, api_keys->enabled() ? api_keys.get() : nullptr));
      } else if (name == "digest") {
        schemes::DigestSettings settings;
        settings.realm = auth_config.realm;
        for (const auto& a : auth_config.digest.algorithms) {
          settings.algorithms.push_back(*schemes::parse_digest_algorithm(a));  // validated
        }
        for (const auto& q : auth_config.digest.qop) {
          settings.qops.push_back(*schemes::parse_digest_qop(q));
        }
        settings.nonce_lifetime = auth_config.digest.nonce_lifetime;
        settings.userhash = auth_config.digest.userhash;
        schemes.push_back(std::make_unique<schemes::DigestScheme>(
            std::move(settings),
            chain_for(auth_config.digest.stores, StoreCapability::digest_ha1, "auth.digest.stores"),
            server_secret, clock, limiter.get()));
      } else {
        throw ConfigError({config.source + ": auth.schemes: unknown scheme \"" + name + "\""});
      }
    }
    authenticator = std::make_unique<http::Authenticator>(std::move(schemes));

    std::vector<std::string> route_names;
    for (const auto& r : router.routes()) route_names.push_back(r.pattern);
    metrics = std::make_unique<http::Metrics>(std::move(route_names));
    access_log = std::make_unique<http::AccessLog>(config.log.access);
    guard.set_cross_origin(
        gatehouse::guard::CsrfPolicy::from_config(config.guard, config.server.public_url));
    pipeline =
        std::make_unique<http::Pipeline>(router, *authenticator, guard, *metrics, *access_log);

    std::vector<net::ListenAddress> listen;
    for (const auto& text : config.server.listen) {
      auto address = net::parse_listen_address(text);
      if (!address) throw ConfigError({config.source + ": server.listen: bad address " + text});
      listen.push_back(*address);
    }
    net::Limits limits;
    limits.max_header_bytes = config.server.max_header_bytes;
    limits.max_body_bytes = config.server.max_body_bytes;
    limits.read_timeout = config.server.read_timeout;
    limits.idle_timeout = config.server.idle_timeout;
    limits.drain_timeout = config.server.drain_timeout;
    limits.max_connections = config.server.max_connections;
    net = std::make_unique<net::HttpServer>(
        std::move(listen), config.server.threads > 0 ? config.server.threads : cores(), limits,
        [this](Request& request, Completion<Response> done) {
          pipeline->handle(request, std::move(done));
        });
    metrics->add_gauge("gatehouse_connections_active", "Open client connections.",
                       [this] { return static_cast<double>(net->active_connections()); });
    metrics->add_gauge(
        "gatehouse_failed_logins_total",
        "Failed password, Digest and API-key verifications (the failed-login limiter's input).",
        [this] { return static_cast<double>(limiter->failures()); }, "counter");
    metrics->add_gauge(
        "gatehouse_throttled_logins_total",
        "Logins refused with 429 because the user or client address was over its limit.",
        [this] { return static_cast<double>(limiter->refusals()); }, "counter");
    metrics->add_gauge("gatehouse_password_queue_depth", "Password checks waiting for a worker.",
                       [this] { return static_cast<double>(pool->queued()); });
  }

  void build_tokens() {
    const TokensConfig& t = config.tokens;
    const auto seconds = [](Duration d) {
      return std::chrono::duration_cast<std::chrono::seconds>(d).count();
    };
    tokens::TokenSettings settings;
    settings.issuer = config.issuer();
    settings.audience = t.audience;
    settings.alg = *jose::parse_alg(t.alg);  // validated
    settings.access_ttl_s = seconds(t.access_ttl);
    settings.refresh_ttl_s = seconds(t.refresh_ttl);
    settings.session_max_age_s = seconds(t.session_max_age);
    settings.session_idle_s = seconds(t.session_idle);
    settings.reuse_grace_s = seconds(t.reuse_grace);
    settings.key_rotation_s = seconds(t.key_rotation);
    settings.leeway_s = seconds(t.leeway);
    settings.cache_entries = t.cache_entries;
    const auto users = [this](std::string_view name) -> std::optional<tokens::UserStatus> {
      for (const auto& store : login_chain) {
        const PasswordLookup lookup = store->find_password(name);
        if (lookup.status == LookupStatus::unknown_user) continue;
        if (lookup.status == LookupStatus::error) throw state::StoreError(lookup.error);
        return tokens::UserStatus{!lookup.record.disabled, lookup.record.roles};
      }
      return std::nullopt;
    };
    const auto active = [this](std::string_view name) {
      for (const auto& store : login_chain) {
        if (const auto known = store->user_active(name)) return *known;
      }
      return false;
    };
    tokens = std::make_unique<tokens::TokenService>(std::move(settings), state, server_secret,
                                                    users, active, clock);
    token_context.tokens = tokens.get();
    token_context.passwords = passwords.get();
    token_context.api_keys = api_keys.get();
    token_context.pool = pool.get();
  }

  void start_refresher() {
    refresher = std::thread([this] {
      std::unique_lock lock(refresher_mutex);
      while (true) {
        refresher_cv.wait_for(lock, std::chrono::milliseconds(250), [this] {
          return refresher_stop || refresh_requested > refresh_done;
        });
        if (refresher_stop) break;
        const std::uint64_t ticket = refresh_requested;
        lock.unlock();
        for (const auto& [name, store] : stores) store->refresh();
        if (tokens) tokens->maintain();
        sync_throttle();
        for (auto& context : trackers) {
          try {
            context->tracker->refresh();
          } catch (const std::exception& e) {
            util::diag().warn("tracker {}: reload failed: {}", context->tracker->name(), e.what());
          }
        }
        lock.lock();
        refresh_done = ticket;
        refresher_cv.notify_all();
      }
    });
  }

  void stop_refresher() {
    {
      std::lock_guard lock(refresher_mutex);
      refresher_stop = true;
    }
    refresher_cv.notify_all();
    if (refresher.joinable()) refresher.join();
    if (db) db->flush_last_used();
    sync_throttle();  // the last failures counted before shutdown
  }
};

Server::Server(Config config) : impl_(std::make_unique<Impl>()) {
  if (auto problems = validate(config); !problems.empty()) throw ConfigError(std::move(problems));
  impl_->config = std::move(config);
  impl_->open_stores();
  impl_->add_builtin_routes();
}

Server::~Server() {
  if (impl_->net) impl_->net.reset();  // joins I/O threads before the pool and stores go
  impl_->stop_refresher();
  if (impl_->access_log) impl_->access_log->flush();
}

void Server::route(std::string method, std::string pattern, Access access, Handler handler) {
  if (impl_->net) throw std::logic_error("routes must be added before the server starts");
  impl_->router.add(std::move(method), std::move(pattern), std::move(access), std::move(handler));
}

void Server::route_async(std::string method, std::string pattern, Access access,
                         AsyncHandler handler) {
  if (impl_->net) throw std::logic_error("routes must be added before the server starts");
  impl_->router.add(std::move(method), std::move(pattern), std::move(access), std::move(handler));
}

void Server::add_store(StorePtr store) {
  if (impl_->net) throw std::logic_error("stores must be added before the server starts");
  const std::string name(store->name());
  impl_->stores[name] = std::move(store);
}

void Server::start() {
  if (impl_->net) return;
  impl_->build_pipeline();
  impl_->net->start();
  impl_->start_refresher();
}

std::vector<std::uint16_t> Server::ports() const {
  return impl_->net ? impl_->net->ports() : std::vector<std::uint16_t>{};
}

int Server::run() {
  start();
  impl_->net->run(/*handle_signals=*/true);
  impl_->stop_refresher();
  impl_->access_log->flush();
  return 0;
}

void Server::stop() {
  if (impl_->net) impl_->net->stop();
}

}  // namespace gatehouse
