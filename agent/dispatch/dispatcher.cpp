// SPDX-License-Identifier: Apache-2.0
#include "agent/dispatch/dispatcher.hpp"

#include <algorithm>
#include <cstdio>

#include "agent/crypto/crypto.hpp"
#include "hal/log.hpp"

namespace agent {

using std::chrono::duration_cast;
using std::chrono::milliseconds;

class Dispatcher::Host final : public OpHost {
 public:
  Host(Outbox& outbox, GraphqlClient& client, const hal::Clock& clock)
      : outbox_(outbox), client_(client), lookups_(clock) {}
  GraphqlClient& client() override { return client_; }
  hal::Status save_progress(const IntentRecord& intent, const std::string& progress) override {
    return outbox_.save_progress(intent.uuid, intent.seq, progress);
  }
  LookupCache* lookups() override { return &lookups_; }

 private:
  Outbox& outbox_;
  GraphqlClient& client_;
  LookupCache lookups_;  // shared by the operations, so a scan's intents ask ION once
};

Dispatcher::Dispatcher(Outbox& outbox, GraphqlClient& client, const hal::Clock& clock,
                       DispatcherOptions options)
    : outbox_(outbox),
      clock_(clock),
      opt_(options),
      host_(std::make_unique<Host>(outbox, client, clock)),
      alive_(std::make_shared<Dispatcher*>(this)) {
  std::uint64_t seed = static_cast<std::uint64_t>(clock.mono().time_since_epoch().count());
  unsigned char b[8];
  if (crypto::random_bytes(b, sizeof b).ok()) {
    for (unsigned char c : b) {
      seed = (seed << 8) ^ c;
    }
  }
  rng_.seed(seed);
  opt_.max_in_flight = std::max<std::size_t>(1, opt_.max_in_flight);
  last_prune_ = clock.mono() - opt_.prune_interval;
}

Dispatcher::~Dispatcher() {
  // Requests still in flight complete into nothing; their intents stay in flight in the
  // store and go back to pending at the next open (at-least-once, idempotent operations).
  *alive_ = nullptr;
}

std::int64_t Dispatcher::wall_ms() const {
  return duration_cast<milliseconds>(clock_.wall().time_since_epoch()).count();
}

// Capped exponential backoff with "full jitter" (uniform in [0, ceiling]), floored so that a
// link failing in microseconds (connection refused) cannot turn into a hot loop.
milliseconds Dispatcher::backoff(int failures) {
  const int n = std::clamp(failures, 1, 30);
  const auto base = static_cast<std::uint64_t>(opt_.backoff_base.count());
  const std::uint64_t ceiling = std::min<std::uint64_t>(static_cast<std::uint64_t>(opt_.backoff_cap.count()),
                                                        base << std::min(n - 1, 20));
  std::uniform_int_distribution<std::uint64_t> dist(0, ceiling);
  return std::max(opt_.backoff_floor, milliseconds(static_cast<std::int64_t>(dist(rng_))));
}

// The link is down: the usual backoff while it is short, but once its ceiling passes
// link_probe_cap, a probe every [0.8, 1] x link_probe_cap. Full jitter would allow probes
// close together and a 5-minute ceiling would leave a station waiting long after ION is back.
milliseconds Dispatcher::link_backoff(int failures) {
  const int n = std::clamp(failures, 1, 30);
  const auto ceiling =
      std::min(opt_.backoff_cap, opt_.backoff_base * (std::int64_t{1} << std::min(n - 1, 20)));
  if (opt_.link_probe_cap.count() <= 0 || ceiling <= opt_.link_probe_cap) {
    return backoff(failures);
  }
  const auto cap = opt_.link_probe_cap.count();
  std::uniform_int_distribution<std::int64_t> dist(cap * 8 / 10, cap);
  return milliseconds(dist(rng_));
}

// Retry-After plus 0 to retry_after_jitter of it.
milliseconds Dispatcher::jittered_retry_after(std::chrono::seconds retry_after) {
  const auto ms = std::chrono::duration_cast<milliseconds>(retry_after).count();
  const auto extra =
      static_cast<std::int64_t>(static_cast<double>(ms) * std::max(0.0, opt_.retry_after_jitter));
  std::uniform_int_distribution<std::int64_t> dist(0, extra);
  return milliseconds(ms + dist(rng_));
}

bool Dispatcher::is_link_problem(const OpOutcome& o) const {
  switch (o.cause) {
    case GraphqlOutcome::network:
    case GraphqlOutcome::timeout:
    case GraphqlOutcome::server_error:
    case GraphqlOutcome::rate_limited:
    case GraphqlOutcome::malformed:
    case GraphqlOutcome::unauthorized:
    case GraphqlOutcome::credentials:
      return true;
    default:
      return false;
  }
}

// One transaction per poll: the outcomes of finished intents and the in-flight marks of the
// ones about to start are committed together (one fsync), and nothing is sent before that
// commit, so a successor never overtakes its predecessor's recorded outcome.
void Dispatcher::poll(MonoTime now) {
  if (deferred_force_ && now >= *deferred_force_) {
    deferred_force_.reset();
    if (link_failures_ > 0 || !link_held_.empty()) {
      force_probe(now, deferred_why_);  // still waiting on the link (else: back by itself)
    }
  }
  Effects fx{link_failures_, paused_until_, counters_};
  std::vector<Transition> batch;
  std::set<std::string> finishing;
  std::set<std::string> dying;  // subjects whose later intents die in this same commit
  for (const auto& f : finished_) {
    finishing.insert(f.uuid);
    batch.push_back(outcome_transition(f, now, fx));
    if (batch.back().to == Transition::To::dead) {
      dying.insert(running_.at(f.uuid).intent.subject);
    }
  }
  if (!finishing.empty()) {
    dirty_ = true;  // successors may be free now
  }
  std::vector<IntentRecord> starts;
  auto chosen = choose(now, fx, finishing, dying);
  if (chosen.ok()) {
    starts = std::move(*chosen);
  } else {
    hal::log::error("dispatcher", chosen.error().what);
    fx.counts.last_error = chosen.error().what;
    fx.paused_until = now + backoff(fx.link_failures + 1);
  }
  for (const auto& r : starts) {
    batch.push_back({r.uuid, Transition::To::in_flight, 0, {}, r.seq});
  }
  auto st = outbox_.commit(batch);
  if (!st.ok()) {
    // Keep the outcomes and try again later; nothing new starts while the store is failing.
    hal::log::error("dispatcher", st.error().what);
    counters_.last_error = st.error().what;
    paused_until_ = now + backoff(++link_failures_);
    dirty_ = true;
    return;
  }
  for (const auto& uuid : finishing) {
    running_.erase(uuid);
  }
  finished_.clear();
  link_failures_ = fx.link_failures;
  paused_until_ = fx.paused_until;
  probing_ = link_failures_ > 0;
  counters_ = fx.counts;
  launch(std::move(starts));
  if (now - last_prune_ >= opt_.prune_interval) {
    last_prune_ = now;
    auto pruned = outbox_.prune();
    if (!pruned.ok()) {
      hal::log::warning("dispatcher", pruned.error().what);
    }
  }
}

Transition Dispatcher::outcome_transition(const Finished& f, MonoTime now, Effects& fx) {
  const IntentRecord& rec = running_.at(f.uuid).intent;
  const OpOutcome& o = f.outcome;
  const std::string tag = "#" + std::to_string(rec.seq) + " ";
  Transition t;
  t.uuid = f.uuid;
  t.seq = rec.seq;
  switch (o.verdict) {
    case OpOutcome::Verdict::delivered:
      t.to = Transition::To::done;
      link_held_.erase(f.uuid);
      if (fx.link_failures > 0) {
        release_link_holds_ = true;  // ION answers: nothing waits out a link backoff any more
      }
      fx.link_failures = 0;
      ++fx.counts.delivered;
      break;
    case OpOutcome::Verdict::rejected:
      t.to = Transition::To::dead;
      t.error = o.message;
      link_held_.erase(f.uuid);
      if (fx.link_failures > 0) {
        release_link_holds_ = true;
      }
      fx.link_failures = 0;  // ION answered: the link works
      ++fx.counts.rejected;
      fx.counts.last_error = tag + o.message;
      hal::log::error("dispatcher", tag + "dead letter: " + o.message);
      break;
    case OpOutcome::Verdict::retry: {
      milliseconds delay{0};
      if (is_link_problem(o)) {
        ++fx.link_failures;
        delay =
            o.retry_after.count() >= 0 ? jittered_retry_after(o.retry_after) : link_backoff(fx.link_failures);
        if (o.retry_after.count() >= 0) {
          retry_after_until_ = std::max(retry_after_until_, now + delay);  // ION's word outranks ours
        }
        fx.paused_until = std::max(fx.paused_until, now + delay);
        release_link_holds_ = false;  // the link is still down: the holds stand again
      } else {
        delay = backoff(rec.attempts + 1);
      }
      if (o.in_doubt) {
        delay = std::max(delay, opt_.in_doubt_hold);
      }
      if (is_link_problem(o) && !o.in_doubt) {
        link_held_.insert(f.uuid);  // lifted by network_changed() or ION's next answer
      } else {
        link_held_.erase(f.uuid);
      }
      t.to = Transition::To::retry;
      t.next_attempt_ms = wall_ms() + delay.count();
      t.error = o.message;
      ++fx.counts.retried;
      fx.counts.last_error = tag + o.message;
      char buf[48];
      std::snprintf(buf, sizeof buf, ": retry in %.1f s", static_cast<double>(delay.count()) / 1000);
      hal::log::warning("dispatcher", tag + o.message + buf);
      break;
    }
  }
  return t;
}

hal::Result<std::vector<IntentRecord>> Dispatcher::choose(MonoTime now, const Effects& fx,
                                                          const std::set<std::string>& finishing,
                                                          const std::set<std::string>& dying) {
  if (now < fx.paused_until) {
    return std::vector<IntentRecord>{};
  }
  const std::size_t window = fx.link_failures > 0 ? 1 : opt_.max_in_flight;
  const std::size_t running = running_.size() - finishing.size();
  if (running >= window) {
    return std::vector<IntentRecord>{};
  }
  if (outbox_.changed_externally() || outbox_.generation() != seen_generation_) {
    dirty_ = true;
  }
  const bool rescan = opt_.rescan_interval.count() > 0 && now - last_scan_ >= opt_.rescan_interval;
  const bool due = dirty_ || (waiting_ && now >= next_ready_) || !scanned_ || rescan;
  if (!due) {
    return std::vector<IntentRecord>{};
  }
  return pick(window - running, now, finishing, dying);
}

hal::Result<std::vector<IntentRecord>> Dispatcher::pick(std::size_t slots, MonoTime now,
                                                        const std::set<std::string>& finishing,
                                                        const std::set<std::string>& dying) {
  seen_generation_ = outbox_.generation();
  last_scan_ = now;
  scanned_ = true;
  dirty_ = false;
  waiting_ = false;
  next_ready_ = MonoTime::max();
  std::set<std::string> blocked = dying;  // subjects whose head runs, waits or dies now
  blocked.erase(std::string());
  for (const auto& r : running_) {
    if (!r.second.intent.subject.empty() && finishing.count(r.first) == 0) {
      blocked.insert(r.second.intent.subject);
    }
  }
  const std::int64_t wall = wall_ms();
  std::vector<IntentRecord> out;
  std::set<std::string> chosen;
  for (int pass = 0; pass < 2 && out.size() < slots; ++pass) {
    auto rows = pass == 0 ? outbox_.pending(opt_.scan_window) : outbox_.pending_heads(opt_.scan_window);
    if (!rows.ok()) {
      return std::move(rows).error().context("dispatcher");
    }
    for (auto& r : *rows) {
      if ((running_.count(r.uuid) != 0 && finishing.count(r.uuid) == 0) || chosen.count(r.uuid) != 0) {
        continue;
      }
      if (!r.subject.empty() && !blocked.insert(r.subject).second) {
        continue;  // an earlier intent about the same subject goes first
      }
      const std::int64_t wait = r.next_attempt_ms - wall;
      // A wait longer than any we set (the backoff cap, or the hold of a mutation in doubt)
      // means the wall clock stepped back: treat as due.
      const bool released = release_link_holds_ && link_held_.count(r.uuid) != 0;
      if (wait > 0 && wait <= std::max(opt_.backoff_cap, opt_.in_doubt_hold).count() && !released) {
        waiting_ = true;
        next_ready_ = std::min(next_ready_, now + milliseconds(wait));
        continue;
      }
      if (out.size() == slots) {
        dirty_ = true;  // more is ready than fits: look again when a slot frees
        break;
      }
      chosen.insert(r.uuid);
      out.push_back(std::move(r));
    }
    if (rows->size() < opt_.scan_window) {
      break;  // the window saw every pending intent: no need for the per-subject heads
    }
  }
  return out;
}

void Dispatcher::launch(std::vector<IntentRecord> batch) {
  if (batch.empty()) {
    return;
  }
  std::weak_ptr<Dispatcher*> alive = alive_;
  for (auto& r : batch) {
    const std::string uuid = r.uuid;
    auto done = [alive, uuid](OpOutcome o) {
      auto self = alive.lock();
      if (self && *self != nullptr) {
        (*self)->finished_.push_back({uuid, std::move(o)});
      }
    };
    auto op = make_ion_op(r, *host_, std::move(done), opt_.op);
    link_held_.erase(uuid);
    auto& slot = running_[uuid];
    slot.intent = std::move(r);
    slot.op = op;
    op->start();  // may finish synchronously (a damaged row): finished_ handles that
  }
}

Dispatcher::MonoTime Dispatcher::next_due() const {
  const MonoTime now = clock_.mono();
  if (!finished_.empty()) {
    return now;
  }
  // Pruning rides on passes that happen anyway (done rows only pile up while delivering), so
  // it is never a deadline of its own: an idle dispatcher has none at all.
  MonoTime due = MonoTime::max();
  if (deferred_force_) {
    due = *deferred_force_;
  }
  if (paused_until_ > now) {
    return std::min(due, paused_until_);
  }
  const std::size_t window = probing_ ? 1 : opt_.max_in_flight;
  if (running_.size() < window) {
    if (dirty_ || !scanned_ || outbox_.generation() != seen_generation_) {
      return now;
    }
    if (waiting_) {
      due = std::min(due, next_ready_);
    }
    if (opt_.rescan_interval.count() > 0) {
      due = std::min(due, last_scan_ + opt_.rescan_interval);
    }
  }
  return due;
}

bool Dispatcher::idle() const {
  return running_.empty() && finished_.empty() && !waiting_ && !dirty_ && scanned_ &&
         outbox_.generation() == seen_generation_;
}

std::optional<Dispatcher::MonoTime> Dispatcher::network_changed(MonoTime now, const std::string& why) {
  if (link_failures_ == 0 && link_held_.empty()) {
    return std::nullopt;  // nothing waits on the link: the change is none of our business
  }
  if (forced_once_ && now - last_forced_ < opt_.network_change_interval) {
    // One forced probe per interval; a later change is kept for the interval's end, since it
    // may be the one that matters (the address a moment after the carrier).
    deferred_force_ = last_forced_ + opt_.network_change_interval;
    deferred_why_ = why;
    hal::log::debug("dispatcher", "network changed (" + why + "): probing at most every " +
                                      std::to_string(opt_.network_change_interval.count()) + " ms");
    return deferred_force_;
  }
  return force_probe(now, why);
}

Dispatcher::MonoTime Dispatcher::force_probe(MonoTime now, const std::string& why) {
  forced_once_ = true;
  last_forced_ = now;
  deferred_force_.reset();
  ++forced_probes_;
  release_link_holds_ = true;
  dirty_ = true;
  const auto spread = std::max<std::int64_t>(0, opt_.network_change_jitter.count());
  std::uniform_int_distribution<std::int64_t> dist(0, spread);
  const MonoTime at = now + milliseconds(dist(rng_));
  if (link_failures_ > 0) {
    // Sooner than the backoff (or, the pause being over, not all stations at once); never
    // before a Retry-After ION asked for: the network did not cause that one.
    paused_until_ = std::max(at, retry_after_until_);
  }
  const MonoTime due = link_failures_ > 0 ? paused_until_ : now;
  char buf[48];
  std::snprintf(buf, sizeof buf, ", in %.1f s)",
                static_cast<double>(duration_cast<milliseconds>(due - now).count()) / 1000);
  hal::log::notice("dispatcher", "network changed: probing ION now (" + why + buf);
  return due;
}

DispatcherStatus Dispatcher::status() const {
  DispatcherStatus s = counters_;
  s.link_failures = link_failures_;
  s.link_ok = link_failures_ == 0;
  s.in_flight = running_.size();
  const MonoTime now = clock_.mono();
  s.retry_in = paused_until_ > now ? duration_cast<milliseconds>(paused_until_ - now) : milliseconds(0);
  return s;
}

}  // namespace agent
