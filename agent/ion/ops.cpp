// SPDX-License-Identifier: Apache-2.0
// The intent kind -> ION operation factory.
#include "agent/ion/ops.hpp"

#include "agent/common/json.hpp"
#include "op_base.hpp"

namespace agent {

std::shared_ptr<IonOp> make_ion_op(const IntentRecord& intent, OpHost& host, IonOp::Done done,
                                   OpOptions options) {
  OpArgs a{intent, host, std::move(done), options};
  const std::string& k = intent.kind;
  if (k == "unit.ensure") {
    return make_unit_ensure(std::move(a));
  }
  if (k == "unit.move") {
    return make_unit_move(std::move(a));
  }
  if (k == "run.ensure") {
    return make_run_ensure(std::move(a));
  }
  if (k == "step.status") {
    return make_step_status(std::move(a));
  }
  if (k == "step.fields") {
    return make_step_fields(std::move(a));
  }
  if (k == "issue.create") {
    return make_issue_create(std::move(a));
  }
  if (k == "file.attach") {
    return make_file_attach(std::move(a));
  }
  if (k == "graphql.raw") {
    return make_graphql_raw(std::move(a));
  }
  return make_unknown(std::move(a));
}

}  // namespace agent
