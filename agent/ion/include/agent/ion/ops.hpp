// SPDX-License-Identifier: Apache-2.0
// ION operations: each intent kind turned into GraphQL lookups and mutations at send time
// (agent/README.md rules 2, 3 and 5; agent/ion/README.md §3-§5). An operation resolves ids and `_etag`s when
// it runs, looks before it acts, and is restartable from scratch, so delivering the same intent
// twice changes ION once. Every value from the station travels in GraphQL variables.
//
// Intent kinds and their inputs (a JSON object; keys not listed are refused at append time).
// "serial" is the unit's serial number; "partNumber" narrows the unit lookup (two parts may
// use the same serial) and is required where the unit may have to be created. Ids may be
// JSON strings or integers.
//
//  unit.ensure  {serial, partNumber, revision?, location?}
//      Finds the part inventory by serial (+ part number); if missing, createPartInventory
//      {partId, serialNumber, quantity: 1, locationId?} for the part's latest revision (or the
//      given revision). location = a location *name*.
//  unit.move    {serial, location, partNumber?}
//      Resolves the location by name; updatePartInventory {id, etag, locationId} unless the
//      unit is already there.
//  run.ensure   {serial, procedureId, partNumber?, title?}
//      Finds the unit's open run (status not COMPLETE/CANCELED/PARTIAL_COMPLETE) of the
//      procedure; createRun {procedureId, partInventoryId, title} if there is none. Default
//      title: "<part number> - <serial> - <procedure title>".
//  step.status  {serial, procedureId, status, partNumber?, step?}
//      status = IN_PROGRESS | COMPLETE | FAILED | HOLD (ION's upper-case enum; anything else is
//      sent as is and ION's refusal becomes the dead letter). step = a step title (string) or
//      position (integer); default: the current step = first top-level step by position that
//      is not COMPLETE/CANCELED. Nothing is sent if the step already has the status. A TODO
//      step asked to COMPLETE is started first (TODO -> IN_PROGRESS -> COMPLETE). The chosen
//      step of a COMPLETE is checkpointed before the first mutation, so a retry after a lost
//      answer does not complete the next step too.
//  step.fields  {serial, procedureId, fields: {name: value, ...}, partNumber?, step?}
//      Writes run step field values (updateRunStepFieldValue, each with its own etag) on the
//      chosen step (as above). Values are typed from the field's ION type: NUMBER -> JSON number
//      (numeric text accepted), BOOLEAN -> true/false (also "true"/"false"/"yes"/"no"/"pass"/
//      "fail"/1/0), STRING and SELECT -> text. Fields that already hold the value are skipped.
//  issue.create {serial, text, partNumber?, title?, procedureId?, step?, interlock?}
//      createIssue {partInventoryId, runStepId?, title?, causeCondition} with the text as Slate
//      rich text. With procedureId (the workflow passes the unit's run) the issue goes on the
//      chosen step (as for step.status) of the unit's open run of it; no open run = the unit
//      alone. The step is pinned in the checkpoint. The text ends with a marker holding the
//      intent's UUID; a retry after a create may have reached ION first looks for that marker
//      among the unit's issues (issues filtered by partInventoryId) and does not create twice.
//      interlock ("skipped: <why>") adds a line saying the station's interlock check was
//      skipped.
//  file.attach  {serial, procedureId, source, filename?, step?, partNumber?, copy, sha256, size}
//      The file the outbox copied at accept time (`copy`, `size` bytes) goes onto the chosen
//      step (as for step.status, pinned in the checkpoint): the step's attachments are read
//      first (same filename and size = done), else createFileAttachment {entityId: the step's
//      entityId, filename}; its uploadUrl is checkpointed, then the copy is PUT there with the
//      attachment's contentType (GraphqlClient::upload, streamed). A cut PUT goes again to the
//      same URL; a refused one (expired, used) looks again, then creates anew. attach.cpp.
//  graphql.raw  {document, variables?}
//      An integrator's own operation, sent as is. AT-LEAST-ONCE: if the answer is lost after
//      ION applied it, it is sent again. Use only for operations that are safe to repeat.
//
// Outcomes: delivered; retry (transport trouble, 5xx, 429, auth, or concurrency conflicts that
// persisted through `max_restarts` re-reads); rejected (ION's GraphQL errors, 4xx, or a lookup
// that proves the intent cannot apply: unknown serial, part, location, procedure, field).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "agent/graphql/graphql.hpp"
#include "agent/intent/intent.hpp"
#include "agent/ion/lookup_cache.hpp"
#include "hal/result.hpp"

namespace agent {

struct OpOutcome {
  enum class Verdict { delivered, retry, rejected };
  Verdict verdict = Verdict::delivered;
  std::string message;                        // why (ION's message for a rejection)
  GraphqlOutcome cause = GraphqlOutcome::ok;  // the GraphQL outcome behind retry/rejected
  std::chrono::seconds retry_after{-1};       // from Retry-After, -1 if none
  // A mutation timed out: ION may still be working on it and apply it later. ION has no
  // idempotency key, so a look-before-act made too soon would miss it and act twice; the
  // dispatcher holds such an intent (DispatcherOptions::in_doubt_hold) before its retry.
  bool in_doubt = false;
};

// What an operation needs from its owner (the dispatcher).
class OpHost {
 public:
  virtual ~OpHost() = default;
  virtual GraphqlClient& client() = 0;
  // Durably stores the intent's checkpoint before a mutation; on failure the op retries later.
  virtual hal::Status save_progress(const IntentRecord& intent, const std::string& progress_json) = 0;
  // What earlier operations learnt at ION (lookup_cache.hpp); nullptr = every op asks ION.
  virtual LookupCache* lookups() { return nullptr; }
};

struct OpOptions {
  int max_restarts = 4;  // re-reads after concurrency conflicts (or one dropped connection)
};

class IonOp {
 public:
  using Done = std::function<void(OpOutcome)>;
  virtual ~IonOp() = default;
  // Starts the first request; `done` is called exactly once, from a client callback (or
  // synchronously if the intent is refused before any request).
  virtual void start() = 0;
};

// Builds the operation for an intent. The op keeps itself alive while requests are in flight.
std::shared_ptr<IonOp> make_ion_op(const IntentRecord& intent, OpHost& host, IonOp::Done done,
                                   OpOptions options = {});

}  // namespace agent
