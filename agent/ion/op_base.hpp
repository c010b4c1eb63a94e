// SPDX-License-Identifier: Apache-2.0
// OpBase: the machinery every ION operation shares (private to agent/ion). An operation is a
// chain of GraphQL requests written as continuations; run() starts it from scratch, so a
// concurrency conflict (stale etag) or a dropped connection simply re-runs it: every operation
// looks before it acts, which makes the re-run safe. Non-ok responses end the operation here
// with a classified outcome, so continuations only ever see good data.
// Lifetime: the op is held by shared_ptr; each request callback holds a reference, so an op
// outlives its requests even if the dispatcher forgets it.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "agent/ion/ops.hpp"

namespace agent {

struct OpArgs {
  IntentRecord intent;
  OpHost& host;
  IonOp::Done done;
  OpOptions options;
};

class OpBase : public IonOp, public std::enable_shared_from_this<OpBase> {
 public:
  explicit OpBase(OpArgs args);
  void start() final;

 protected:
  using Next = std::function<void(const cJSON* data)>;

  virtual void run() = 0;

  void send(std::string document, Json variables, Next next);
  void deliver();
  void reject(const std::string& message);  // prefixed with the kind
  void retry_later(const std::string& message, GraphqlOutcome cause);
  // Saves the checkpoint durably (and keeps it for re-runs). False = the op already finished
  // with "retry later" because the store failed; the caller must stop.
  bool checkpoint(Json progress);
  // Re-runs from scratch if restarts remain, otherwise retries later. For "the state changed
  // under us" cases the op detects itself.
  void restart(const std::string& why);

  const cJSON* input(const char* key) const;
  std::string input_text(const char* key) const;  // "" if absent
  std::string input_id(const char* key) const;    // string or integer, as text
  std::optional<std::string> input_opt(const char* key) const;
  const cJSON* progress() const { return progress_.get(); }
  GraphqlClient& client() { return host_.client(); }
  // The GraphQL outcome `r` ends the op (retry or rejected) as a failed request would.
  void fail_with(GraphqlOutcome cause, const std::string& message, bool transient);
  const IntentRecord& intent() const { return intent_; }

  // The lookup cache to read from: nullptr once the op has gone back to ION for fresh data
  // (after a conflict, a dropped connection, or a refusal that followed a cached answer).
  LookupCache* cached() const { return fresh_only_ ? nullptr : host_.lookups(); }
  // The cache to tell what was learnt (fresh answers are always worth keeping).
  LookupCache* learn() const { return host_.lookups(); }
  // The op used a cached answer: a refusal now re-reads from ION before it counts.
  void used_cache() { used_cache_ = true; }
  // Forgets the subject's cached answers and runs again from fresh reads; false if the op
  // already read fresh (the caller then decides on what it has).
  bool reread_fresh();

 private:
  void on_response(GraphqlResponse r, const Next& next, bool mutation);
  void finish(OpOutcome outcome);
  void forget_cached();  // fresh reads only from now on; the subject's cache entries dropped

  IntentRecord intent_;
  OpHost& host_;
  IonOp::Done done_;
  OpOptions options_;
  Json inputs_;
  Json progress_;
  int restarts_ = 0;
  bool network_restarted_ = false;
  bool finished_ = false;
  bool fresh_only_ = false;
  bool used_cache_ = false;
};

// Factories, one per kind (unit.cpp, run.cpp, fields.cpp, issue.cpp, attach.cpp, raw.cpp).
std::shared_ptr<IonOp> make_unit_ensure(OpArgs a);
std::shared_ptr<IonOp> make_unit_move(OpArgs a);
std::shared_ptr<IonOp> make_run_ensure(OpArgs a);
std::shared_ptr<IonOp> make_step_status(OpArgs a);
std::shared_ptr<IonOp> make_step_fields(OpArgs a);
std::shared_ptr<IonOp> make_issue_create(OpArgs a);
std::shared_ptr<IonOp> make_graphql_raw(OpArgs a);
std::shared_ptr<IonOp> make_file_attach(OpArgs a);
std::shared_ptr<IonOp> make_unknown(OpArgs a);

}  // namespace agent
