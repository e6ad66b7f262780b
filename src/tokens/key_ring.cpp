#include "tokens/key_ring.hpp"

#include <ctime>

#include "util/encoding.hpp"
#include "util/log.hpp"

namespace gatehouse::tokens {

namespace {
state::SigningKeyRow new_key_row(jose::Alg alg, std::int64_t now) {
  const auto key = jose::Key::generate(alg, KeyRing::new_kid(now));
  state::SigningKeyRow row;
  row.kid = key.kid();
  row.alg = std::string(jose::to_string(alg));
  row.private_jwk = key.private_jwk();
  row.created = now;
  return row;
}
}  // namespace

KeyRing::KeyRing(std::shared_ptr<state::StateStore> store, KeyRingSettings settings,
                 const Clock& clock)
    : store_(std::move(store)), settings_(settings), clock_(clock) {
  if (store_->list_signing_keys().empty()) {
    // Two instances starting on an empty store both add one: the later retires the earlier,
    // which keeps verifying through its grace, so tokens of either stay good.
    store_->add_signing_key(new_key_row(settings_.alg, clock_.now_s()), std::nullopt);
  }
  load();
}

std::string KeyRing::new_kid(std::int64_t now_s) {
  const std::time_t t = static_cast<std::time_t>(now_s);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char date[16];
  std::strftime(date, sizeof date, "%Y-%m-%d", &tm);
  return std::string(date) + "-" + util::hex_encode(util::random_bytes(4));
}

void KeyRing::load() {
  const std::uint64_t generation = store_->signing_keys_generation();
  auto keys = std::make_shared<Keys>();
  keys->generation = generation;
  std::string jwks = "{\"keys\":[";
  bool first = true;
  const std::int64_t now = clock_.now_s();
  for (const auto& row : store_->list_signing_keys()) {  // newest first
    if (row.retired) {
      const std::int64_t ends = *row.retired + settings_.retire_grace_s;
      if (ends < now) continue;
      if (keys->reload_at == 0 || ends + 1 < keys->reload_at) keys->reload_at = ends + 1;
    }
    std::string error;
    const auto alg = jose::parse_alg(row.alg);
    auto key = jose::Key::from_jwk(row.private_jwk, &error, alg);
    if (!key || !alg) {
      util::diag().error("signing key {} in the store is unusable: {}", row.kid,
                         key ? "unknown alg" : error);
      continue;
    }
    if (!row.retired && !keys->signer) {
      keys->signer = *key;
      keys->signer_created = row.created;
    }
    if (const std::string jwk = key->public_jwk(); !jwk.empty()) {
      if (!first) jwks += ',';
      jwks += jwk;
      first = false;
    }
    keys->verifiers.emplace(row.kid, std::move(*key));
  }
  jwks += "]}";
  keys->jwks = std::move(jwks);
  if (!keys->signer) throw state::StoreError("the store holds no usable signing key");
  loaded_generation_ = generation;
  keys_.publish(std::move(keys));
}

std::string KeyRing::rotate(state::StateStore& store, jose::Alg alg, const Clock& clock) {
  const auto row = new_key_row(alg, clock.now_s());
  store.add_signing_key(row, std::nullopt);
  return row.kid;
}

bool KeyRing::maintain() noexcept {
  try {
    const std::int64_t now = clock_.now_s();
    const auto current = keys_.get_shared();
    bool changed = store_->signing_keys_generation() != loaded_generation_;
    // Scheduled rotation; with several instances the store's compare-and-set lets one win.
    if (settings_.rotation_s > 0 && current->signer &&
        now - current->signer_created >= settings_.rotation_s) {
      const auto row = new_key_row(settings_.alg, now);
      if (store_->add_signing_key(row, current->signer->kid())) {
        util::diag().info("signing key rotated: {} replaces {}", row.kid, current->signer->kid());
      }
      changed = true;
    }
    // A retired key whose grace has ended leaves the JWKS (load() drops it), and the store a day
    // later.
    if (current->reload_at != 0 && now >= current->reload_at) changed = true;
    if (changed) load();
    if (now - last_cleanup_ >= 60) {
      last_cleanup_ = now;
      store_->delete_signing_keys_retired_before(now - settings_.retire_grace_s - 86400);
    }
    return true;
  } catch (const std::exception& e) {
    util::diag().error("signing keys: {}", e.what());
    return false;
  }
}

}  // namespace gatehouse::tokens
