#pragma once
// A classic tracker with the demo data on a real SQLite state store in a temp dir.
#include <memory>

#include "../temp_dir.hpp"
#include "state/state_store.hpp"
#include "tracker/schema.hpp"
#include "tracker/tracker.hpp"
#include "util/clock.hpp"

namespace gatehouse::testing {

struct ClassicTracker {
  TempDir dir;
  FakeClock clock{1'764'000'000'000};  // 2025-11-24
  std::shared_ptr<state::StateStore> store = state::open_state_store("sqlite:" + dir.file("t.db"));
  tracker::Tracker tracker{"demo", tracker::load_schema("classic"), store, clock};

  ClassicTracker() { tracker.load(/*demo_data=*/true); }

  tracker::Actor admin() const { return {"1", "admin", {"Admin"}}; }
  tracker::Actor anonymous() const { return tracker.anonymous(); }
  tracker::Actor demo() const { return {"3", "demo", {"User"}}; }
};

}  // namespace gatehouse::testing
