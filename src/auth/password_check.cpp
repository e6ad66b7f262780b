#include "auth/password_check.hpp"

#include "auth/password_hash.hpp"
#include "util/encoding.hpp"

namespace gatehouse::auth {

namespace {
constexpr std::string_view kBadLogin = "invalid username or password";

Outcome busy_outcome(const std::string& scheme) {
  auto o = Outcome::fail(OutcomeKind::busy, scheme, "pool_full",
                         "too many password checks in progress; retry shortly");
  o.retry_after = 1;
  return o;
}

IdentityPtr identity_for(const PasswordRecord& rec, std::string_view store, std::string scheme,
                         std::int64_t now_s) {
  auto who = std::make_shared<Identity>();
  who->subject = rec.username;
  who->roles = rec.roles;
  who->scheme = std::move(scheme);
  who->store = std::string(store);
  who->auth_time = now_s;
  return who;
}
}  // namespace

PasswordCheck::PasswordCheck(std::vector<StorePtr> chain, WorkerPool& pool, CredentialCache& cache,
                             const Clock& clock, guard::FailedLoginLimiter* limiter)
    : chain_(std::move(chain)),
      pool_(pool),
      cache_(cache),
      clock_(clock),
      limiter_(limiter),
      // Same algorithm and cost as gatehouse's own hashes, for a random password nobody knows.
      dummy_hash_(hash_argon2id(util::hex_encode(util::random_bytes(16)))) {}

void PasswordCheck::record_failure(std::string_view username, std::string_view address) const {
  if (limiter_ != nullptr) limiter_->record_failure(username, address, clock_.now_ms());
}

void PasswordCheck::check(PasswordCredentials credentials, std::string scheme,
                          std::string client_address, Completion<Outcome> done) const {
  const PasswordRecord* record = nullptr;
  PasswordLookup lookup;
  StorePtr store;
  for (const auto& candidate : chain_) {
    lookup = candidate->find_password(credentials.username);
    if (lookup.status == LookupStatus::unknown_user) continue;
    if (lookup.status == LookupStatus::error) {
      done(
          Outcome::fail(OutcomeKind::error, scheme, "store_error", "credential store unavailable"));
      return;
    }
    record = &lookup.record;
    store = candidate;
    break;
  }

  // The account's own name when a store knows it (the name its failures were counted under),
  // else the name as presented.
  const std::string_view counted_name = record != nullptr ? std::string_view(record->username)
                                                          : std::string_view(credentials.username);
  if (limiter_ != nullptr) {
    if (auto refused = limiter_->check(counted_name, client_address, clock_.now_ms())) {
      done(refused->outcome(scheme));
      return;
    }
  }

  const auto now_s = clock_.now_s();
  if (record != nullptr) {
    const auto key = cache_.key_for(store->name(), record->username, record->hash,
                                    credentials.password.reveal());
    if (cache_.contains(key)) {
      if (record->disabled) {
        record_failure(record->username, client_address);
        done(Outcome::fail(OutcomeKind::denied, scheme, "disabled", std::string(kBadLogin)));
        return;
      }
      done(Outcome::granted(identity_for(*record, store->name(), scheme, now_s), scheme));
      return;
    }
    auto finish = std::make_shared<Completion<Outcome>>(std::move(done));
    auto task = [this, key, rec = std::move(lookup.record), store,
                 password = std::move(credentials.password), scheme, now_s,
                 address = std::move(client_address), finish] {
      const auto& done = *finish;
      const bool ok = verify_password(rec.hash, password.reveal());
      if (!ok || rec.disabled) {
        record_failure(rec.username, address);
        done(Outcome::fail(OutcomeKind::denied, scheme, ok ? "disabled" : "bad_password",
                           std::string(kBadLogin)));
        return;
      }
      cache_.insert(key);
      done(Outcome::granted(identity_for(rec, store->name(), scheme, now_s), scheme));
      // Imported bcrypt/SHA-crypt hashes become argon2id on the first successful login (after
      // the answer, so the client does not wait for the second hash).
      if (store->upgrades_hashes() && needs_rehash(rec.hash)) {
        store->upgrade_hash(rec.username, rec.hash, hash_argon2id(password.reveal()));
      }
    };
    if (!pool_.try_submit(std::move(task))) (*finish)(busy_outcome(scheme));
    return;
  }

  auto finish = std::make_shared<Completion<Outcome>>(std::move(done));
  auto task = [this, username = std::move(credentials.username),
               password = std::move(credentials.password), scheme,
               address = std::move(client_address), finish] {
    const auto& done = *finish;
    (void)verify_password(dummy_hash_, password.reveal());
    record_failure(username, address);
    done(Outcome::fail(OutcomeKind::unknown_user, scheme, "unknown_user", std::string(kBadLogin)));
  };
  if (!pool_.try_submit(std::move(task))) (*finish)(busy_outcome(scheme));
}

}  // namespace gatehouse::auth
