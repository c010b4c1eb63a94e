// SPDX-License-Identifier: Apache-2.0
// Quality interlocks: ION-side conditions a rule may `require` before its intents are accepted
// (README "Quality interlocks"). The profile names them, the workflow asks an InterlockChecker
// and defers its decision until the answer (or the timeout) comes back, and agent/ion's
// IonInterlocks answers them with one aliased GraphQL query. These types sit here, beside
// what an intent is, because both the workflow and the ION operations need them and neither
// may include the other.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace agent {

struct Condition {
  enum class Kind {
    no_open_issues,  // the unit has no open issue (NCR)
    run_not_held,    // no run of the unit is on HOLD, FAILED or REDLINE
    at_location,     // the unit is at the location named by `arg`
  };
  Kind kind = Kind::no_open_issues;
  std::string arg;  // at_location: the location name (rendered; a template in the profile)
};

const char* to_string(Condition::Kind k) noexcept;
// "no_open_issues", "run_not_held", "at_location:NAME" -> Condition (arg unrendered). nullopt
// for anything else.
std::optional<Condition> parse_condition(const std::string& text);
// The condition as the profile writes it ("at_location:TEST-STAND-1").
std::string to_string(const Condition& c);

struct InterlockQuery {
  std::string serial;       // the unit on the bench
  std::string part_number;  // optional: narrows the unit lookup
  std::vector<Condition> conditions;
};

struct InterlockAnswer {
  enum class Verdict {
    pass,     // every condition holds
    fail,     // `condition` does not hold; `detail` says which issue / run / location
    unknown,  // ION could not be asked (offline, timeout, error); `detail` says why
  };
  Verdict verdict = Verdict::unknown;
  std::string condition;  // the failed condition as written ("run_not_held"); "" otherwise
  std::string detail;     // one line for the operator's status and the log
};

// Answers interlock queries. Asynchronous: check() never blocks. When the answer is already
// known (a recent pass for the same unit and conditions) it is returned at once and `done` is
// never called; otherwise check() returns nullopt and `done` is called exactly once, later,
// from the loop thread (with Verdict::unknown on timeout).
class InterlockChecker {
 public:
  using Done = std::function<void(InterlockAnswer)>;
  virtual ~InterlockChecker() = default;
  virtual std::optional<InterlockAnswer> check(const InterlockQuery& query, Done done) = 0;
};

}  // namespace agent
