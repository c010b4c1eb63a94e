// SPDX-License-Identifier: Apache-2.0
// Dispatcher: moves intents from the Outbox to ION through the ION operations, from the
// owner's event loop, never blocking on the network (agent/README.md rules 4 and 5).
//
// Loop contract (single thread; the thread that owns the Outbox and the GraphqlClient):
//   - call poll(now) when next_due() has passed, after the GraphqlClient delivered responses
//     (its perform()), and after Outbox::append(); poll() commits finished intents in one
//     transaction and starts the next ready ones;
//   - next_due() is the latest time to call poll() again; it never asks for a busy loop, and
//     is MonoTime::max() when nothing is due at all (idle, with rescan_interval 0).
// Delivery rules:
//   - Order: intents start in acceptance order. Intents with the same subject run strictly one
//     after another, and the next starts only after the previous one's outcome is committed
//     (so a crash never lets a later intent overtake an earlier one). Different subjects run
//     concurrently, up to `max_in_flight` (pipelined requests on the client's connections).
//   - delivered -> done; rejected -> dead letter with ION's message (dependants die with it);
//     retry -> pending with capped exponential backoff and full jitter.
//   - Link trouble (network, timeout, 5xx, 429, auth, malformed answers) pauses the whole
//     dispatcher, honouring Retry-After; after a pause one intent probes the link before the
//     window opens again. Intent-level trouble (etag conflicts that outlast the re-reads, a
//     checkpoint that could not be saved) backs off that intent's subject only.
//   - Intents changed by another process (`ion-agent queue retry`) are picked up within
//     `rescan_interval` (0: never by time; the owner watches the database files instead).
//   - Done intents past retention are pruned at most every `prune_interval`, during passes
//     that run anyway: pruning never wakes an idle dispatcher.
//   - network_changed(): the owner saw the network come back (a link up, an address, a route:
//     hal's NetlinkWatch). While the link is down, the pause ends within 0 to
//     `network_change_jitter` (a fleet on one switch does not probe in the same millisecond)
//     and the intents that only wait because the link was down are due again; at most one
//     such forced probe per `network_change_interval`, a later change inside it is kept for
//     its end (DHCP's address a second after the carrier is not lost). With the link up it does
//     nothing. The same release happens when a probe succeeds: an intent held back by link
//     trouble never waits out its own backoff once ION answers.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "agent/graphql/graphql.hpp"
#include "agent/ion/ops.hpp"
#include "agent/outbox/outbox.hpp"
#include "hal/clock.hpp"

namespace agent {

struct DispatcherOptions {
  std::size_t max_in_flight = 8;                    // concurrent intents (distinct subjects)
  std::chrono::milliseconds backoff_base{500};      // first retry waits up to this
  std::chrono::milliseconds backoff_cap{300000};    // never more than 5 min between tries
  std::chrono::milliseconds backoff_floor{100};     // full jitter, but never a hot loop
  std::chrono::milliseconds rescan_interval{5000};  // notice other processes' changes; 0 = never
  std::chrono::minutes prune_interval{60};          // drop done intents past retention, at most
  std::size_t scan_window = 256;                    // pending rows read per scan
  // After a mutation timed out (OpOutcome::in_doubt), its intent waits at least this long
  // before the retry looks at ION again, so that a request ION is still working on lands
  // first. The daemon uses its request timeout: a server that did not answer within one
  // timeout gets one more to finish (with the default 20 s, 40 s after sending, beyond the
  // 30 s after which ION's gateway gives up on a request).
  std::chrono::milliseconds in_doubt_hold{30000};
  // Link down: once the backoff would exceed this, the probe comes every 80-100 % of it
  // instead (jittered), so a fleet notices ION's return within it and never probes more
  // often than every 0.8 x this (24 s by default) during a long outage.
  std::chrono::milliseconds link_probe_cap{30000};
  // Retry-After gets 0 to this fraction on top, so stations told the same value do not
  // come back in the same second.
  double retry_after_jitter = 0.2;
  // network_changed(): the probe comes 0 to this much later, at most one per interval.
  std::chrono::milliseconds network_change_jitter{2000};
  std::chrono::milliseconds network_change_interval{2000};
  OpOptions op;
};

// What the daemon publishes in its status (the queue itself: Outbox::stats()).
struct DispatcherStatus {
  bool link_ok = true;                    // false while backing off after link trouble
  int link_failures = 0;                  // consecutive
  std::chrono::milliseconds retry_in{0};  // until the next attempt, while paused
  std::size_t in_flight = 0;
  std::uint64_t delivered = 0;  // since start
  std::uint64_t rejected = 0;
  std::uint64_t retried = 0;
  std::string last_error;
};

class Dispatcher {
 public:
  using MonoTime = hal::Clock::MonoTime;

  Dispatcher(Outbox& outbox, GraphqlClient& client, const hal::Clock& clock, DispatcherOptions options = {});
  ~Dispatcher();
  Dispatcher(const Dispatcher&) = delete;
  Dispatcher& operator=(const Dispatcher&) = delete;

  void poll(MonoTime now);
  MonoTime next_due() const;
  std::size_t in_flight() const { return running_.size(); }
  // Nothing running and nothing ready or waiting in the outbox as of the last scan.
  bool idle() const;
  DispatcherStatus status() const;
  // The network may be back (`why` names what changed, for the log). Returns when the forced
  // probe is due, or nullopt when nothing waits on the link (the change is ignored).
  std::optional<MonoTime> network_changed(MonoTime now, const std::string& why);
  std::uint64_t forced_probes() const { return forced_probes_; }

 private:
  class Host;
  struct Running {
    IntentRecord intent;
    std::shared_ptr<IonOp> op;
  };
  struct Finished {
    std::string uuid;
    OpOutcome outcome;
  };

  struct Effects {  // link state and counters as they will be once this poll commits
    int link_failures;
    MonoTime paused_until;
    DispatcherStatus counts;
  };
  Transition outcome_transition(const Finished& f, MonoTime now, Effects& fx);
  hal::Result<std::vector<IntentRecord>> choose(MonoTime now, const Effects& fx,
                                                const std::set<std::string>& finishing,
                                                const std::set<std::string>& dying);
  hal::Result<std::vector<IntentRecord>> pick(std::size_t slots, MonoTime now,
                                              const std::set<std::string>& finishing,
                                              const std::set<std::string>& dying);
  void launch(std::vector<IntentRecord> batch);  // after their in-flight marks committed
  std::chrono::milliseconds backoff(int failures);
  std::chrono::milliseconds link_backoff(int failures);
  std::chrono::milliseconds jittered_retry_after(std::chrono::seconds retry_after);
  std::int64_t wall_ms() const;
  bool is_link_problem(const OpOutcome& o) const;
  MonoTime force_probe(MonoTime now, const std::string& why);

  Outbox& outbox_;
  const hal::Clock& clock_;
  DispatcherOptions opt_;
  std::unique_ptr<Host> host_;
  std::shared_ptr<Dispatcher*> alive_;  // ops' done callbacks check it (dispatcher gone?)

  std::map<std::string, Running> running_;
  std::vector<Finished> finished_;
  std::mt19937_64 rng_;

  int link_failures_ = 0;
  MonoTime paused_until_{};
  bool probing_ = false;
  MonoTime last_scan_{};
  bool scanned_ = false;
  bool dirty_ = true;      // rescan needed
  bool waiting_ = false;   // pending intents exist that were not ready
  MonoTime next_ready_{};  // earliest known next attempt of a waiting intent
  std::uint64_t seen_generation_ = 0;
  MonoTime last_prune_{};
  DispatcherStatus counters_;
  // Intents whose wait comes only from link trouble (not an in-doubt hold, not their own
  // trouble), and whether those waits are lifted (the network changed, or ION answered).
  std::set<std::string> link_held_;
  bool release_link_holds_ = false;
  bool forced_once_ = false;
  MonoTime last_forced_{};
  MonoTime retry_after_until_{};            // the latest Retry-After: a network change does not shorten it
  std::optional<MonoTime> deferred_force_;  // a change inside the interval, applied at its end
  std::string deferred_why_;
  std::uint64_t forced_probes_ = 0;
};

}  // namespace agent
