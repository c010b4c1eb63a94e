// SPDX-License-Identifier: Apache-2.0
// A small checker for the Prometheus text exposition format (version 0.0.4), so tests can
// prove a metrics textfile would be accepted by node_exporter without promtool: HELP/TYPE
// comments, metric and label names, label value escapes, numeric values, TYPE before samples,
// one TYPE per metric family, no duplicate series, counters named *_total.
#pragma once

#include <string>

namespace ion_test {

// "" when the text is valid; otherwise "line N: what is wrong".
std::string check_prometheus_text(const std::string& text);

}  // namespace ion_test
