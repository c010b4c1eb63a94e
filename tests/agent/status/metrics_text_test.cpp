// SPDX-License-Identifier: Apache-2.0
// The metrics textfile is valid Prometheus text format, with escaped labels and the figures
// the snapshot holds.
#include "agent/status/metrics_text.hpp"

#include <CppUTest/TestHarness.h>

#include "prom_text_check.hpp"

TEST_GROUP(MetricsText){};

TEST(MetricsText, FormatsValidPrometheusTextWithEscapedLabels) {
  agent::MetricsSnapshot m;
  m.station = "line \"A\"\\1\nnorth";
  m.pending = 7;
  m.dead = 1;
  m.delivered_total = 42;
  m.accept_latency_max_s = 0.0125;
  m.link_ok = false;
  m.devices = {{"scanner", "scanner", true}, {"pass", "gpio", false}};
  std::string text = agent::format_metrics(m);
  std::string why = ion_test::check_prometheus_text(text);
  CHECK_TRUE_TEXT(why.empty(), (why + "\n" + text).c_str());
  const std::string labels = R"(station="line \"A\"\\1\nnorth")";
  CHECK(text.find("ion_agent_pending{" + labels + "} 7\n") != std::string::npos);
  CHECK(text.find("ion_agent_delivered_total{" + labels + "} 42\n") != std::string::npos);
  CHECK(text.find("ion_agent_link_up{" + labels + "} 0\n") != std::string::npos);
  CHECK(text.find("ion_agent_device_connected{" + labels + ",device=\"pass\",kind=\"gpio\"} 0\n") !=
        std::string::npos);
  CHECK(text.find("# TYPE ion_agent_delivered_total counter\n") != std::string::npos);
}

TEST(MetricsText, CheckerRefusesBrokenText) {
  CHECK_FALSE(ion_test::check_prometheus_text("ion_agent_x 1\n").empty());  // no TYPE
  CHECK_FALSE(ion_test::check_prometheus_text("# TYPE a gauge\na{b=\"x} 1\n").empty());
  CHECK_FALSE(ion_test::check_prometheus_text("# TYPE a gauge\na 1\na 2\n").empty());
  CHECK_FALSE(ion_test::check_prometheus_text("# TYPE a gauge\na one\n").empty());
  CHECK_FALSE(ion_test::check_prometheus_text("# TYPE a counter\na 1\n").empty());  // not *_total
}
