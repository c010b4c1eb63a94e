// SPDX-License-Identifier: Apache-2.0
// Input storm, GPIO side, end to end below the loop: a pedal whose contact bounces thousands of
// times inside the debounce window, through the simulated chip (the same software debounce and
// ButtonLogic the libgpiod v1 backend runs), the station workflow and a real outbox file on
// disk. One press must become exactly one accepted event and one durable intent; the bounces
// of its release must add nothing. (The kernel-debounced path is covered by tests/hw.)
#include <CppUTest/TestHarness.h>
#include <poll.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "agent/outbox/outbox.hpp"
#include "agent/profile/profile.hpp"
#include "agent/workflow/workflow.hpp"
#include "hal/sim/fake_clock.hpp"
#include "hal/sim/sim_gpio.hpp"
#include "hal/sim/sim_gpio_inputs.hpp"
#include "scratch_dir.hpp"

using namespace std::chrono_literals;

namespace {

constexpr const char* kProfile = R"({
  "station": "storm",
  "inputs": {"pedal": {"type": "sim"}},
  "rules": [{"on": "pedal", "event": "press",
             "do": [{"intent": "step.status", "serial": "SN-000101", "procedureId": "12",
                     "status": "COMPLETE"}]}]
})";

class OutboxSink final : public agent::IntentSink {
 public:
  explicit OutboxSink(agent::Outbox& o) : outbox_(o) {}
  hal::Result<std::string> append(const agent::NewIntent& intent) override { return outbox_.append(intent); }
  hal::Result<std::vector<std::string>> append_all(const std::vector<agent::NewIntent>& intents) override {
    return outbox_.append_all(intents);
  }

 private:
  agent::Outbox& outbox_;
};

bool readable(int fd) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, 0) == 1 && (p.revents & POLLIN) != 0;
}

}  // namespace

TEST_GROUP(GpioStorm) {
  testing_support::ScratchDir dir{"gpio-storm"};
  hal::sim::FakeClock clock;
  hal::sim::SimGpio chip{clock};
  std::unique_ptr<agent::Outbox> outbox;
  std::unique_ptr<OutboxSink> sink;
  std::unique_ptr<agent::Workflow> workflow;
  int accepted = 0;
  int events = 0;

  void setup() override {
    auto p = agent::parse_profile(kProfile, "storm.json");
    CHECK_TRUE_TEXT(p.ok(), p.ok() ? "" : p.error().what.c_str());
    workflow =
        std::make_unique<agent::Workflow>(std::make_shared<const agent::Profile>(std::move(p).value()));
    auto o = agent::Outbox::open(dir.path() + "/outbox.db", {}, clock);
    CHECK_TRUE_TEXT(o.ok(), o.ok() ? "" : o.error().what.c_str());
    outbox = std::move(o).value();
    sink = std::make_unique<OutboxSink>(*outbox);
  }

  // The daemon's loop in miniature: read when readable, wake at each deadline, hand every
  // event to the workflow.
  void run_until(hal::Device & dev, hal::Clock::MonoTime until) {
    std::vector<hal::StationEvent> out;
    if (readable(dev.fd())) {
      dev.on_readable(clock.mono(), out);
    }
    while (auto d = dev.next_deadline()) {
      if (*d > until) {
        break;
      }
      clock.advance(*d - clock.mono());
      dev.on_deadline(clock.mono(), out);
    }
    if (until > clock.mono()) {
      clock.advance(until - clock.mono());
    }
    for (const auto& ev : out) {
      ++events;
      agent::Reaction r = workflow->on_event(ev, agent::EventTime{}, *sink);
      accepted += r.signal == agent::Signal::accepted ? 1 : 0;
    }
  }

  std::uint64_t stored() {
    auto s = outbox->stats();
    CHECK_TRUE(s.ok());
    return s->pending + s->in_flight + s->done + s->dead;
  }
};

TEST(GpioStorm, FiveThousandBouncesInsideTheWindowGiveOneDurableIntent) {
  hal::GpioInputSpec spec;
  spec.name = "pedal";
  spec.line.offset = 4;
  spec.active_low = true;
  spec.bias = hal::Bias::pull_up;
  spec.debounce = 20ms;
  auto in = chip.request_inputs({spec});
  CHECK_TRUE(in.ok());
  // 5001 edges 3 us apart (15 ms in all, inside one 20 ms window); ends low = pressed.
  chip.bounce(4, 5001, 3us, clock.mono());
  run_until(**in, clock.mono() + 500ms);
  // The release bounces as badly; releases have no rule, so they add no intent.
  chip.bounce(4, 4001, 3us, clock.mono());
  run_until(**in, clock.mono() + 500ms);
  LONGS_EQUAL(9002, (*in)->raw_edges());
  LONGS_EQUAL(2, events);  // one press, one release
  LONGS_EQUAL(1, accepted);
  LONGS_EQUAL(1, stored());
}

TEST(GpioStorm, StormsOfSeparatePressesGiveOneIntentEach) {
  hal::GpioInputSpec spec;
  spec.name = "pedal";
  spec.line.offset = 2;
  spec.active_low = true;
  spec.bias = hal::Bias::pull_up;
  spec.debounce = 20ms;
  auto in = chip.request_inputs({spec});
  CHECK_TRUE(in.ok());
  for (int i = 0; i < 50; ++i) {
    chip.bounce(2, 201, 50us, clock.mono());  // pressed, 10 ms of chatter
    run_until(**in, clock.mono() + 100ms);
    chip.bounce(2, 199, 50us, clock.mono());  // released
    run_until(**in, clock.mono() + 100ms);
  }
  LONGS_EQUAL(100, events);
  LONGS_EQUAL(50, accepted);
  LONGS_EQUAL(50, stored());
}
