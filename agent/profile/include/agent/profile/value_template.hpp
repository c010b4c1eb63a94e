// SPDX-License-Identifier: Apache-2.0
// Value templates for intent inputs: "{scan}", "{gs1.21}", "{unit.serial}", "{context.x}",
// "{match.1}". A template is only ever rendered into one JSON *string value* of an intent's
// inputs (agent/README.md rule 7: scanned text is data, never part of a GraphQL document), so no
// escaping rules apply here; cJSON escapes the result when the inputs are printed.
// "{{" and "}}" stand for literal braces. Pure functions, no state.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "hal/result.hpp"

namespace agent {

// The variable names a template refers to, in order ("context." prefixes removed), or a
// parse error ("unterminated '{'", "empty variable name", "bad variable name 'x y'").
hal::Result<std::vector<std::string>> template_variables(const std::string& tpl);

// Looks a variable up; nullopt = not available now (e.g. no unit scanned yet).
using TemplateLookup = std::function<std::optional<std::string>(const std::string& name)>;

// Renders a template that template_variables() accepted. Fails with Errc::not_found naming
// the first variable the lookup could not supply.
hal::Result<std::string> render_template(const std::string& tpl, const TemplateLookup& lookup);

}  // namespace agent
