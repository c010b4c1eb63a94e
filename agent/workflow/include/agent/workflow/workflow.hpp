// SPDX-License-Identifier: Apache-2.0
// Workflow: the station's rules as a state machine. State = the station context (current
// unit, run, operator badge, location: string keys such as "unit.serial"); input = one
// hal::StationEvent; output = intents handed to an IntentSink plus the feedback to show.
//
// Truthful feedback (agent/README.md rule 1): the reaction carries Signal::accepted only when every
// intent the rule produced was appended, i.e. committed by the outbox. Otherwise it is a red
// signal with a distinct pattern: bad_scan (unreadable/rejected label or a value a template
// needed is missing from it), not_matched (no rule for this label), no_unit (the rule needs a
// unit or run and none was scanned yet), queue_full (outbox refused: Errc::busy),
// storage_error (outbox failed to commit), interlock (a `require`d ION condition fails, or ION
// could not be asked and the rule refuses offline). The context changes only when the whole
// rule succeeded, so a failed scan can simply be scanned again (intents are idempotent at ION);
// a changed context is committed with the rule's intents (IntentSink::commit).
//
// Interlocks defer the decision: a rule with `require` builds its intents, asks the
// InterlockChecker and returns a Reaction with `deferred` set and no signal; the real Reaction
// (accepted, interlock, ...) reaches the deferred handler when the answer or the timeout
// comes back. Events arriving meanwhile wait in order behind it (their Reactions also go to
// the handler), so the context always changes in event order. Nothing ever blocks.
//
// Readings (hal::StationEvent::Kind::reading from an instrument input): the reply is parsed
// by the input's dialect (agent/reading); a refused reply or a missing one (error set: timeout,
// disconnected) gives bad_reading with the reason, a good value outside the input's min/max
// gives out_of_limits (no rule runs, nothing is written), and a good one within them runs the
// first "reading" rule of that input with {reading.value} and {reading.unit}. A rule's
// {"read": NAME} action is not I/O here: the Reaction lists the instruments to query, once
// the rule succeeded, and the station sends their commands.
//
// No I/O of its own: the sink is the only side effect, so tests are tables of events in and
// intents + signals out. Used from the loop thread only.
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "agent/intent/intent.hpp"
#include "agent/intent/interlock.hpp"
#include "agent/profile/profile.hpp"
#include "agent/profile/value_template.hpp"
#include "agent/reading/reading.hpp"
#include "hal/device.hpp"
#include "hal/result.hpp"

namespace agent {

// Where accepted intents go: the outbox in the daemon, a recorder in tests. Returns the
// intent's id once it is durable.
class IntentSink {
 public:
  virtual ~IntentSink() = default;
  virtual hal::Result<std::string> append(const NewIntent& intent) = 0;
  // One event's intents, all or none (the outbox does it in one transaction). The default
  // appends one by one and suits sinks without transactions.
  virtual hal::Result<std::vector<std::string>> append_all(const std::vector<NewIntent>& intents) {
    std::vector<std::string> ids;
    for (const auto& intent : intents) {
      auto id = append(intent);
      if (!id.ok()) {
        return std::move(id).error();
      }
      ids.push_back(std::move(id).value());
    }
    return ids;
  }
  // One event's intents and, when `context` is not null, the station context they leave
  // behind, together (the outbox: one transaction, so green and the context restored after a
  // power cut agree). `intents` may be empty when only the context changed. The default
  // keeps no context (sinks without persistence).
  virtual hal::Result<std::vector<std::string>> commit(const std::vector<NewIntent>& intents,
                                                       const std::map<std::string, std::string>* context) {
    (void)context;
    if (intents.empty()) {
      return std::vector<std::string>{};
    }
    return append_all(intents);
  }
};

// The context as stored in the outbox: a JSON object of strings, and back. from_json refuses
// anything else (Errc::parse), so a damaged row is reported, never half restored.
std::string context_to_json(const std::map<std::string, std::string>& context);
hal::Result<std::map<std::string, std::string>> context_from_json(const std::string& json);

// GS1 application identifiers found in a scan ("01" -> "09506000134352"); empty when the scan
// is not a GS1 element string. Injected so the workflow stays independent of the decoder.
using Gs1Decoder = std::function<std::map<std::string, std::string>(const hal::StationEvent& ev)>;

struct Reaction {
  int rule = -1;                        // index of the rule that fired; -1 = none
  std::optional<Signal> signal;         // none for events that need no feedback (releases)
  std::vector<Pattern> outputs;         // rule output actions, then the signal's patterns
  std::vector<std::string> intent_ids;  // ids of the intents appended, in order
  std::string message;                  // one line for the log: what happened, and why
  bool deferred = false;                // decided later, through the deferred handler
  std::vector<std::string> reads;       // instruments to query ({"read": NAME}), in order
};

class Workflow {
 public:
  using Context = std::map<std::string, std::string>;

  Workflow(std::shared_ptr<const Profile> profile, Gs1Decoder gs1 = nullptr);
  ~Workflow();
  Workflow(const Workflow&) = delete;
  Workflow& operator=(const Workflow&) = delete;

  Reaction on_event(const hal::StationEvent& ev, const EventTime& at, IntentSink& sink);

  // Interlocks: who answers `require` (none = every check is "unknown": offline policy), and
  // who receives the Reactions decided later. Both must outlive the workflow's pending work.
  using DeferredHandler = std::function<void(const hal::StationEvent& ev, const Reaction& r)>;
  void set_interlocks(InterlockChecker* checker) { checker_ = checker; }
  void on_deferred(DeferredHandler handler) { deferred_ = std::move(handler); }
  // An event is waiting for an interlock answer (tests, drain on stop).
  bool busy() const { return pending_.has_value(); }
  // Stopping: ION is asked nothing more; the check waiting now and every later one is
  // "unknown: <why>", so each event already read is decided by its rule's "offline" policy
  // (Reactions of waiting events go to the deferred handler, in order).
  void stop_asking(const std::string& why);

  // SIGHUP: new rules, same context (the unit on the bench is still the unit on the bench).
  void set_profile(std::shared_ptr<const Profile> profile);
  const Profile& profile() const { return *profile_; }
  const Context& context() const { return context_; }
  void restore_context(Context c) { context_ = std::move(c); }

 private:
  struct Scan {
    const hal::StationEvent* ev;
    std::map<std::string, std::string> gs1;
    std::vector<std::string> groups;   // regex groups; [0] = whole text
    const Reading* reading = nullptr;  // reading events: the parsed value
  };
  Reaction on_reading(const hal::StationEvent& ev, const EventTime& at, IntentSink& sink);
  void build_parsers();
  bool matches(const Rule& rule, const hal::StationEvent& ev, Scan& scan) const;
  std::optional<std::string> lookup(const std::string& name, const Scan& scan, const Context& ctx) const;
  Reaction signal(Reaction r, Signal s, const std::string& why) const;
  hal::Result<NewIntent> build_intent(const Action& a, const TemplateLookup& look, Context& next,
                                      Signal& why) const;
  Reaction run_rule(int index, const Scan& scan, const EventTime& at, IntentSink& sink);

  // A rule whose intents wait for the interlock answer.
  struct Pending {
    hal::StationEvent ev;
    Reaction r;
    std::string where;
    Rule::Offline offline = Rule::Offline::refuse;
    std::vector<NewIntent> intents;
    std::vector<Pattern> outputs;
    Context next;
    IntentSink* sink = nullptr;
    std::uint64_t token = 0;
  };
  struct Queued {
    hal::StationEvent ev;
    EventTime at;
    IntentSink* sink;
  };
  Reaction commit(Reaction r, const std::string& where, std::vector<NewIntent>& intents,
                  std::vector<Pattern> outputs, Context next, IntentSink& sink);
  Reaction decide(Pending& p, const InterlockAnswer& a);
  void resume(std::uint64_t token, const InterlockAnswer& a);

  std::shared_ptr<const Profile> profile_;
  Gs1Decoder gs1_;
  Context context_;
  InterlockChecker* checker_ = nullptr;
  std::string no_checker_why_ = "no ION connection to ask";
  DeferredHandler deferred_;
  std::optional<Pending> pending_;
  std::deque<Queued> queued_;
  std::uint64_t next_token_ = 0;
  // Handlers may destroy the workflow's owner; each callback checks this flag's owner alive.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  std::map<std::string, ReadingParser> parsers_;  // per instrument input
  std::map<std::string, std::string> parser_errors_;
};

}  // namespace agent
