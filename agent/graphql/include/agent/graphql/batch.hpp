// SPDX-License-Identifier: Apache-2.0
// Batching GraphQL requests with aliases (DESIGN.md "On the wire"). Pure text and JSON work,
// no transport: the client (net/) decides when to batch; the unit tests and the fuzzer call
// these directly.
//
// Several operations of the same type (all queries, or all mutations) become one document:
// member i's top-level fields are aliased `b<i>_<key>` (key = its own alias, or the field
// name) and its variables renamed `$b<i>_<name>`. GraphQL executes each aliased field on its
// own: a field that fails is null with an error whose `path[0]` names the alias, and the
// other fields still resolve (ion-api.md §3). split_batch_reply() hands every member its own
// `data` and `errors`, with the original keys and paths restored, and says when the reply
// cannot be attributed (a refused document, `data` null as a whole, errors without a path).
//
// Only simple documents are batched: one operation (`query`/`mutation`, named or not, or the
// `{ ... }` shorthand), variable definitions, and top-level plain fields. Fragments,
// subscriptions, operation or top-level directives and top-level fragment spreads are sent
// on their own (prepare_member() returns nullopt).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/common/json.hpp"

namespace agent {

// One operation rewritten for a place in a batch.
struct BatchMember {
  bool mutation = false;
  std::string prefix;                // "b3_"
  std::string variable_definitions;  // "$b3_serial: String!, ..." (may be empty)
  std::string selections;            // "b3_units: partInventories(...) { ... } ..."
  std::vector<std::string> keys;     // the response keys as the operation wrote them
  std::size_t fields() const { return keys.size(); }
};

// Rewrites `document` with `prefix`; nullopt when it is not a simple operation (see above).
std::optional<BatchMember> prepare_member(std::string_view document, const std::string& prefix);

// The combined document of members that share an operation type.
std::string batch_document(const std::vector<const BatchMember*>& members);

// Copies the members' variables (variables[i] for members[i]; null is fine) into one object,
// each key prefixed with its member's prefix.
Json batch_variables(const std::vector<const BatchMember*>& members,
                     const std::vector<const cJSON*>& variables);

// How a batch's reply divides among its members.
struct BatchSplit {
  enum class Kind {
    per_member,    // `bodies` holds one reply body per member, to classify as a lone reply
    refused,       // no `data` at all, only errors: ION refused the document before executing
                   // anything (validation, depth or complexity limits): send each on its own
    unattributed,  // `data` null as a whole, or errors without a member's path: whatever
                   // executed cannot be told apart (mutations are in doubt)
    not_json,      // not a GraphQL reply (a proxy's page): classify the whole as one reply
  };
  Kind kind = Kind::not_json;
  std::vector<std::string> bodies;  // {"data":{...},"errors":[...]} per member
  std::vector<bool> with_errors;    // per member: its body holds errors
  std::string detail;               // for messages (the first unattributed error)
};

BatchSplit split_batch_reply(const std::string& body, const std::vector<const BatchMember*>& members);

}  // namespace agent
