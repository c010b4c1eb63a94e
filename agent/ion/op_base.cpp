// SPDX-License-Identifier: Apache-2.0
#include "op_base.hpp"

#include "agent/common/json.hpp"

namespace agent {

OpBase::OpBase(OpArgs args)
    : intent_(std::move(args.intent)),
      host_(args.host),
      done_(std::move(args.done)),
      options_(args.options) {}

void OpBase::start() {
  inputs_ = json::parse(intent_.inputs_json);
  if (!inputs_ || !cJSON_IsObject(inputs_.get())) {
    // Validated at append time, so only a damaged row gets here: no retry can fix it.
    reject("stored inputs are not a JSON object");
    return;
  }
  if (!intent_.progress.empty()) {
    progress_ = json::parse(intent_.progress);
  }
  run();
}

void OpBase::send(std::string document, Json variables, Next next) {
  GraphqlRequest req;
  const bool mutation = document.find("mutation") != std::string::npos;  // as the client decides
  req.document = std::move(document);
  req.variables = std::move(variables);
  auto self = shared_from_this();
  host_.client().submit(std::move(req), [self, next = std::move(next), mutation](GraphqlResponse r) {
    self->on_response(std::move(r), next, mutation);
  });
}

void OpBase::on_response(GraphqlResponse r, const Next& next, bool mutation) {
  if (finished_) {
    return;
  }
  switch (r.outcome) {
    case GraphqlOutcome::ok:
      if (r.data == nullptr) {
        retry_later("ION answered without data", GraphqlOutcome::malformed);
        return;
      }
      next(r.data.get());
      return;
    case GraphqlOutcome::concurrency:
      // Someone changed the object between our read and our write: read again and redo.
      restart("etag conflict: " + r.summary());
      return;
    case GraphqlOutcome::network:
      // The connection dropped, perhaps after ION applied the request: re-run at once (the
      // lookups tell us what happened); a second drop waits for the dispatcher's backoff.
      if (!network_restarted_) {
        network_restarted_ = true;
        forget_cached();
        run();
        return;
      }
      forget_cached();
      break;
    default:
      break;
  }
  if (is_transient(r.outcome)) {
    OpOutcome o;
    o.verdict = OpOutcome::Verdict::retry;
    o.message = intent_.kind + ": " + r.summary();
    o.cause = r.outcome;
    o.retry_after = r.retry_after;
    o.in_doubt = mutation && r.outcome == GraphqlOutcome::timeout;
    finish(std::move(o));
    return;
  }
  if (reread_fresh()) {
    return;  // refused after a cached answer (a unit deleted since?): decide on fresh data
  }
  OpOutcome o;
  o.verdict = OpOutcome::Verdict::rejected;
  o.message = intent_.kind + ": ION refused: " + r.summary();
  o.cause = r.outcome;
  finish(std::move(o));
}

void OpBase::restart(const std::string& why) {
  if (finished_) {
    return;
  }
  forget_cached();  // what we knew was stale
  if (restarts_ < options_.max_restarts) {
    ++restarts_;
    run();
    return;
  }
  retry_later(why + " (after " + std::to_string(restarts_) + " re-reads)", GraphqlOutcome::concurrency);
}

void OpBase::deliver() {
  finish(OpOutcome{});
}

void OpBase::forget_cached() {
  fresh_only_ = true;
  if (LookupCache* c = host_.lookups()) {
    c->forget(input_text("serial"));
  }
}

bool OpBase::reread_fresh() {
  if (finished_ || fresh_only_ || !used_cache_) {
    return false;
  }
  forget_cached();
  run();
  return true;
}

void OpBase::reject(const std::string& message) {
  if (reread_fresh()) {
    return;  // a rejection is only ever made on fresh data
  }
  OpOutcome o;
  o.verdict = OpOutcome::Verdict::rejected;
  o.message = intent_.kind + ": " + message;
  o.cause = GraphqlOutcome::ok;
  finish(std::move(o));
}

void OpBase::retry_later(const std::string& message, GraphqlOutcome cause) {
  OpOutcome o;
  o.verdict = OpOutcome::Verdict::retry;
  o.message = intent_.kind + ": " + message;
  o.cause = cause;
  finish(std::move(o));
}

void OpBase::fail_with(GraphqlOutcome cause, const std::string& message, bool transient) {
  if (transient) {
    retry_later(message, cause);
  } else {
    reject(message);
  }
}

bool OpBase::checkpoint(Json progress) {
  std::string text = json::print(progress.get());
  auto st = host_.save_progress(intent_, text);
  if (!st.ok()) {
    // Mutating without the checkpoint could repeat a change after a crash: wait instead.
    retry_later("cannot save checkpoint: " + st.error().what, GraphqlOutcome::ok);
    return false;
  }
  intent_.progress = std::move(text);
  progress_ = std::move(progress);
  return true;
}

void OpBase::finish(OpOutcome outcome) {
  if (finished_) {
    return;
  }
  finished_ = true;
  auto done = std::move(done_);
  done_ = nullptr;
  if (done) {
    done(std::move(outcome));
  }
}

const cJSON* OpBase::input(const char* key) const {
  return json::get(inputs_.get(), key);
}

std::string OpBase::input_text(const char* key) const {
  return json::str(inputs_.get(), key).value_or("");
}

std::string OpBase::input_id(const char* key) const {
  return json::id(inputs_.get(), key);
}

std::optional<std::string> OpBase::input_opt(const char* key) const {
  return json::str(inputs_.get(), key);
}

namespace {

class UnknownOp final : public OpBase {
 public:
  using OpBase::OpBase;

 private:
  void run() override { reject("unknown intent kind"); }
};

}  // namespace

std::shared_ptr<IonOp> make_unknown(OpArgs a) {
  return std::make_shared<UnknownOp>(std::move(a));
}

}  // namespace agent
