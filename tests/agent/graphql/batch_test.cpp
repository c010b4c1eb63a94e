// SPDX-License-Identifier: Apache-2.0
// Batching with aliases (agent/graphql/batch.hpp): documents rewritten without changing what
// they ask, and replies attributed to their members by alias, with the cases that cannot be
// attributed said so.
#include "agent/graphql/batch.hpp"

#include <CppUTest/TestHarness.h>

#include <string>
#include <vector>

#include "agent/graphql/graphql.hpp"

using agent::BatchMember;
using agent::BatchSplit;

namespace {

const char* const kLookup =
    "query Unit($serial: String!, $partNumber: String!) {\n"
    "  units: partInventories(first: 2, filters: {serialNumber: {eq: $serial}, partNumber: {eq: "
    "$partNumber}})"
    " { edges { node { id _etag serialNumber } } }\n"
    "}";
const char* const kCreate =
    "mutation ($input: CreatePartInventoryInput!) { createPartInventory(input: $input) { partInventory { id "
    "} } }";

BatchMember prepared(const char* doc, const char* prefix) {
  auto m = agent::prepare_member(doc, prefix);
  CHECK_TRUE_TEXT(m.has_value(), doc);
  return *m;
}

}  // namespace

TEST_GROUP(GraphqlBatch){};

TEST(GraphqlBatch, AMemberIsAliasedAndItsVariablesRenamed) {
  BatchMember m = prepared(kLookup, "b3_");
  CHECK_FALSE(m.mutation);
  STRCMP_EQUAL("$b3_serial: String!, $b3_partNumber: String!", m.variable_definitions.c_str());
  CHECK_EQUAL(1u, m.keys.size());
  STRCMP_EQUAL("units", m.keys[0].c_str());
  CHECK_TRUE(m.selections.find("b3_units: partInventories(first: 2") != std::string::npos);
  CHECK_TRUE(m.selections.find("{eq: $b3_serial}") != std::string::npos);
  CHECK_TRUE(m.selections.find("{eq: $b3_partNumber}") != std::string::npos);
  CHECK_TRUE(m.selections.find("$serial") == std::string::npos);

  BatchMember c = prepared(kCreate, "b0_");
  CHECK_TRUE(c.mutation);
  STRCMP_EQUAL("createPartInventory", c.keys[0].c_str());  // no alias: the field name is the key
  CHECK_TRUE(c.selections.find(" b0_createPartInventory: createPartInventory(input: $b0_input)") == 0);
}

TEST(GraphqlBatch, StringsAndCommentsAreNotRewritten) {
  BatchMember m =
      prepared("{ a: f(x: \"$notvar { } b: c\", y: \"\"\"also $not\"\"\") # $comment }\n b }", "b1_");
  CHECK_EQUAL(2u, m.keys.size());
  STRCMP_EQUAL("a", m.keys[0].c_str());
  STRCMP_EQUAL("b", m.keys[1].c_str());
  CHECK_TRUE(m.selections.find("\"$notvar { } b: c\"") != std::string::npos);
  CHECK_TRUE(m.selections.find("\"\"\"also $not\"\"\"") != std::string::npos);
  CHECK_TRUE(m.selections.find("b1_b: b") != std::string::npos);
}

TEST(GraphqlBatch, DocumentsThatAreNotSimpleOperationsAreSentAlone) {
  CHECK_FALSE(agent::prepare_member("subscription { x }", "b0_").has_value());
  CHECK_FALSE(agent::prepare_member("query { ...F } fragment F on Query { x }", "b0_").has_value());
  CHECK_FALSE(agent::prepare_member("query { x } fragment F on Query { x }", "b0_").has_value());
  CHECK_FALSE(agent::prepare_member("query A { x } query B { y }", "b0_").has_value());
  CHECK_FALSE(agent::prepare_member("query @cached { x }", "b0_").has_value());
  CHECK_FALSE(agent::prepare_member("{ x @include(if: true) }", "b0_").has_value());
  CHECK_FALSE(agent::prepare_member("{ x(a: \"unterminated) }", "b0_").has_value());
  CHECK_FALSE(agent::prepare_member("{ x ", "b0_").has_value());
  CHECK_FALSE(agent::prepare_member("", "b0_").has_value());
  CHECK_FALSE(agent::prepare_member("{ }", "b0_").has_value());
  CHECK_TRUE(agent::prepare_member("{ x { y @include(if: true) } }", "b0_").has_value());  // nested: kept
}

TEST(GraphqlBatch, TheBatchDocumentDeclaresEveryMembersVariables) {
  BatchMember a = prepared(kLookup, "b0_");
  BatchMember b = prepared(kLookup, "b1_");
  std::string doc = agent::batch_document({&a, &b});
  CHECK_TRUE(doc.rfind("query Batch($b0_serial: String!, $b0_partNumber: String!, $b1_serial: String!", 0) ==
             0);
  CHECK_TRUE(doc.find("b0_units: partInventories") != std::string::npos);
  CHECK_TRUE(doc.find("b1_units: partInventories") != std::string::npos);
  agent::Json va(cJSON_Parse(R"({"serial":"SN-1","partNumber":"P"})"));
  agent::Json vb(cJSON_Parse(R"({"serial":"SN-2","partNumber":"P"})"));
  agent::Json all = agent::batch_variables({&a, &b}, {va.get(), vb.get()});
  STRCMP_EQUAL(R"({"b0_serial":"SN-1","b0_partNumber":"P","b1_serial":"SN-2","b1_partNumber":"P"})",
               agent::JsonText(cJSON_PrintUnformatted(all.get())).get());
  STRCMP_EQUAL("SN-1", cJSON_GetObjectItem(va.get(), "serial")->valuestring);  // kept for a fallback
  BatchMember m = prepared(kCreate, "b2_");
  CHECK_TRUE(agent::batch_document({&m}).rfind("mutation Batch($b2_input", 0) == 0);
}

TEST(GraphqlBatch, AFailingAliasBelongsToItsMemberOnly) {
  BatchMember a = prepared(kCreate, "b0_");
  BatchMember b = prepared(kCreate, "b1_");
  BatchMember c = prepared(kCreate, "b2_");
  const char* reply =
      R"({"data": {"b0_createPartInventory": {"partInventory": {"id": "7"}}, "b1_createPartInventory": null,)"
      R"( "b2_createPartInventory": {"partInventory": {"id": "9"}}},)"
      R"( "errors": [{"message": "Serial already used", "path": ["b1_createPartInventory", "partInventory"]}]})";
  BatchSplit s = agent::split_batch_reply(reply, {&a, &b, &c});
  CHECK_TRUE(s.kind == BatchSplit::Kind::per_member);
  CHECK_EQUAL(3u, s.bodies.size());
  auto r0 = agent::classify_graphql_response(200, s.bodies[0], std::chrono::seconds(-1));
  auto r1 = agent::classify_graphql_response(200, s.bodies[1], std::chrono::seconds(-1));
  auto r2 = agent::classify_graphql_response(200, s.bodies[2], std::chrono::seconds(-1));
  CHECK_TRUE(r0.outcome == agent::GraphqlOutcome::ok);
  CHECK_TRUE(r2.outcome == agent::GraphqlOutcome::ok);
  CHECK_TRUE(r1.outcome == agent::GraphqlOutcome::graphql_errors);
  STRCMP_EQUAL("Serial already used", r1.messages.at(0).c_str());
  STRCMP_EQUAL("7",
               agent::json::at(r0.data.get(), {"createPartInventory", "partInventory"})->child->valuestring);
  STRCMP_EQUAL("9",
               agent::json::at(r2.data.get(), {"createPartInventory", "partInventory"})->child->valuestring);
  // The error's path names the member's own key again.
  CHECK_TRUE(s.bodies[1].find(R"("path":["createPartInventory","partInventory"])") != std::string::npos);
  CHECK_TRUE(s.bodies[0].find("errors") == std::string::npos);
}

TEST(GraphqlBatch, AnEtagConflictOfOneMemberIsThatMembersConcurrency) {
  BatchMember a = prepared(kCreate, "b0_");
  BatchMember b = prepared(kCreate, "b1_");
  const char* reply =
      R"({"data": {"b0_createPartInventory": null, "b1_createPartInventory": {"partInventory": null}},)"
      R"( "errors": [{"message": "Etag does not match", "path": ["b0_createPartInventory"]}]})";
  BatchSplit s = agent::split_batch_reply(reply, {&a, &b});
  CHECK_TRUE(s.kind == BatchSplit::Kind::per_member);
  CHECK_TRUE(agent::classify_graphql_response(200, s.bodies[0], std::chrono::seconds(-1)).outcome ==
             agent::GraphqlOutcome::concurrency);
  CHECK_TRUE(agent::classify_graphql_response(200, s.bodies[1], std::chrono::seconds(-1)).outcome ==
             agent::GraphqlOutcome::ok);
}

TEST(GraphqlBatch, RepliesThatCannotBeAttributedSaySo) {
  BatchMember a = prepared(kCreate, "b0_");
  BatchMember b = prepared(kCreate, "b1_");
  // ION refused the document before executing anything (validation, complexity limits).
  CHECK_TRUE(
      agent::split_batch_reply(R"({"errors": [{"message": "Query is too complex"}]})", {&a, &b}).kind ==
      BatchSplit::Kind::refused);
  // Executed, but data null as a whole (a non-null field failed): any member may have applied.
  auto s = agent::split_batch_reply(R"({"data": null, "errors": [{"message": "boom", "path": ["b1_x"]}]})",
                                    {&a, &b});
  CHECK_TRUE(s.kind == BatchSplit::Kind::unattributed);
  // An error that names no member.
  s = agent::split_batch_reply(
      R"({"data": {"b0_createPartInventory": {}, "b1_createPartInventory": {}}, "errors": [{"message": "internal"}]})",
      {&a, &b});
  CHECK_TRUE(s.kind == BatchSplit::Kind::unattributed);
  CHECK_TRUE(s.detail.find("internal") != std::string::npos);
  s = agent::split_batch_reply(
      R"({"data": {}, "errors": [{"message": "x", "path": ["b7_createPartInventory"]}]})", {&a, &b});
  CHECK_TRUE(s.kind == BatchSplit::Kind::unattributed);
  // Not GraphQL at all (a proxy's page): classified as a whole by the caller.
  CHECK_TRUE(agent::split_batch_reply("<html>502 Bad Gateway</html>", {&a, &b}).kind ==
             BatchSplit::Kind::not_json);
  CHECK_TRUE(agent::split_batch_reply(R"({"message": "x"})", {&a, &b}).kind == BatchSplit::Kind::not_json);
}
