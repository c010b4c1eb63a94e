// SPDX-License-Identifier: Apache-2.0
// graphql.raw: the integrator's own document and variables, sent as is. The escape hatch is
// at-least-once: nothing here can look before acting, so a lost answer means a resend.
#include "agent/common/json.hpp"
#include "op_base.hpp"

namespace agent {
namespace {

class GraphqlRaw final : public OpBase {
 public:
  using OpBase::OpBase;

 private:
  void run() override {
    const cJSON* v = input("variables");
    Json vars(v != nullptr ? cJSON_Duplicate(v, 1) : cJSON_CreateObject());
    send(input_text("document"), std::move(vars), [this](const cJSON*) { deliver(); });
  }
};

}  // namespace

std::shared_ptr<IonOp> make_graphql_raw(OpArgs a) {
  return std::make_shared<GraphqlRaw>(std::move(a));
}

}  // namespace agent
