// SPDX-License-Identifier: Apache-2.0
#include "hal/sim/sim_station.hpp"

#include <CppUTest/TestHarness.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "hal/log.hpp"
#include "hal/sim/sim_output.hpp"

using namespace std::chrono_literals;
using hal::StationEvent;
using Kind = hal::StationEvent::Kind;

namespace {
std::vector<std::string> g_warnings;
void capture(hal::log::Level, std::string_view line) {
  g_warnings.emplace_back(line);
}

bool readable(int fd) {
  pollfd p{fd, POLLIN, 0};
  return fd >= 0 && ::poll(&p, 1, 0) == 1;
}

std::string describe(const StationEvent& e) {
  switch (e.kind) {
    case Kind::scan:
      return "scan " + e.input + " " + e.text + (e.error.empty() ? "" : " ERR " + e.error);
    case Kind::press:
      return "press " + e.input;
    case Kind::release:
      return "release " + e.input;
    case Kind::long_press:
      return "long " + e.input;
    case Kind::reading:
      return "reading " + e.input + " " + e.text + (e.error.empty() ? "" : " ERR " + e.error);
    case Kind::file:
      return "file " + e.input + " " + e.text + (e.error.empty() ? "" : " ERR " + e.error);
  }
  return "?";
}
}  // namespace

TEST_GROUP(SimStation) {
  std::string dir;
  std::vector<StationEvent> out;
  hal::Clock::MonoTime now = hal::Clock::MonoTime(1000s);

  void setup() override {
    char tmpl[] = "/tmp/ion-simstation-XXXXXX";
    CHECK(::mkdtemp(tmpl) != nullptr);
    dir = tmpl;
    g_warnings.clear();
    hal::log::set_sink(capture);
  }
  void teardown() override {
    hal::log::set_sink(nullptr);
    for (const char* f : {"script", "fifo", "made"}) {
      ::unlink((dir + "/" + f).c_str());
    }
    ::rmdir(dir.c_str());
  }

  hal::sim::SimStationConfig config(const std::string& path) {
    hal::sim::SimStationConfig c;
    c.path = path;
    c.buttons = {{"pass", 0ms, 0ms}, {"pedal", 20ms, 1s}};
    c.max_scan_length = 16;
    return c;
  }

  std::string script(const std::string& text) {
    std::string path = dir + "/script";
    std::ofstream(path) << text;
    return path;
  }

  // Drives the device like the loop: read while readable, wake at deadlines.
  void run(hal::sim::SimStation & s, std::chrono::milliseconds span) {
    auto end = now + span;
    for (int guard = 0; guard < 1000; ++guard) {
      if (readable(s.fd())) {
        s.on_readable(now, out);
        continue;
      }
      auto d = s.next_deadline();
      if (!d || *d > end) {
        break;
      }
      now = std::max(now, *d);
      s.on_deadline(now, out);
    }
    now = end;
  }

  std::string events() {
    std::string s;
    for (const auto& e : out) {
      s += describe(e) + "\n";
    }
    return s;
  }
};

TEST(SimStation, AScriptGivesTheSameEventsAsRealDevices) {
  auto st =
      hal::sim::SimStation::open(config(script("# a shift\n"
                                               "scan SN-000123\n"
                                               "\n"
                                               "  press pass  \r\n"
                                               "release pass\n"
                                               "click pedal\n"
                                               "scan ]C1\\x1d0109501101530003\n"
                                               "scan a\\\\b\\q")));  // no final newline
  CHECK_TRUE(st.ok());
  run(**st, 1s);
  STRCMP_EQUAL(
      "scan scanner SN-000123\npress pass\nrelease pass\npress pedal\nrelease pedal\n"
      "scan scanner ]C1\x1d"
      "0109501101530003 ERR scan too long (20 bytes, limit 16)\nscan scanner a\\b\\q\n",
      events().c_str());
  LONGS_EQUAL(0, (*st)->bad_lines());
  CHECK_TRUE((*st)->finished());
}

TEST(SimStation, ReadingLinesGoToTheNamedInstrument) {
  auto c =
      config(script("reading scale S S     12.345 g\n"
                    "reading scale\n"
                    "reading nobody 1\n"
                    "reading dmm   +1.21000E+01  \n"));
  c.instruments = {"scale", "dmm"};
  auto st = hal::sim::SimStation::open(c);
  CHECK_TRUE(st.ok());
  run(**st, 1s);
  STRCMP_EQUAL("reading scale S S     12.345 g\nreading scale \nreading dmm +1.21000E+01\n",
               events().c_str());
  LONGS_EQUAL(1, (*st)->bad_lines());
  CHECK(g_warnings[0].find("unknown instrument 'nobody' (known: scale, dmm)") != std::string::npos);
}

TEST(SimStation, ControlCharactersOtherThanGsRejectTheScan) {
  auto st = hal::sim::SimStation::open(config(script("scan AB\\x1dCD\nscan AB\\x07CD\n")));
  CHECK_TRUE(st.ok());
  run(**st, 1s);
  LONGS_EQUAL(2, out.size());
  STRCMP_EQUAL("", out[0].error.c_str());
  STRCMP_EQUAL("control character 0x07 at byte 2", out[1].error.c_str());
}

TEST(SimStation, BadLinesAreWarnedAboutAndSkipped) {
  auto st =
      hal::sim::SimStation::open(config(script("press nobody\n"
                                               "jump pass\n"
                                               "sleep soon\n"
                                               "scan\n"
                                               "click pass\n")));
  CHECK_TRUE(st.ok());
  run(**st, 1s);
  STRCMP_EQUAL("press pass\nrelease pass\n", events().c_str());
  LONGS_EQUAL(4, (*st)->bad_lines());
  LONGS_EQUAL(4, g_warnings.size());
  std::string src = "<4>sim: " + dir + "/script: ";
  STRCMP_EQUAL((src + "line 1: unknown input 'nobody' (known: pass, pedal)\n").c_str(),
               g_warnings[0].c_str());
  STRCMP_EQUAL(
      (src + "line 2: unknown command 'jump' (expected scan, press, release, click, reading, sleep)\n")
          .c_str(),
      g_warnings[1].c_str());
  STRCMP_EQUAL((src + "line 3: 'sleep' needs a time up to 1 hour, e.g. 500, 500ms or 2s\n").c_str(),
               g_warnings[2].c_str());
  STRCMP_EQUAL((src + "line 4: 'scan' needs the scanned text\n").c_str(), g_warnings[3].c_str());
}

TEST(SimStation, AnOverlongLineIsDroppedWhole) {
  std::string longline(5000, 'x');
  auto st = hal::sim::SimStation::open(config(script("scan " + longline + "\nclick pass\n")));
  CHECK_TRUE(st.ok());
  run(**st, 1s);
  STRCMP_EQUAL("press pass\nrelease pass\n", events().c_str());
  LONGS_EQUAL(1, (*st)->bad_lines());
}

TEST(SimStation, SleepPausesWithoutBlockingAndHoldingGivesALongPress) {
  auto st = hal::sim::SimStation::open(
      config(script("press pedal\nsleep 1500ms\nrelease pedal\nsleep 2s\nclick pass\n")));
  CHECK_TRUE(st.ok());
  auto start = now;
  (*st)->on_readable(now, out);
  CHECK_EQUAL(-1, (*st)->fd());                 // paused: nothing to wait on but the deadline
  CHECK((*st)->next_deadline() == start + 1s);  // the long press comes first
  run(**st, 5s);
  STRCMP_EQUAL("press pedal\nlong pedal\nrelease pedal\npress pass\nrelease pass\n", events().c_str());
  CHECK(out[1].at == start + 1s);
  CHECK(out[2].at == start + 1500ms);
  CHECK(out[3].at == start + 3500ms);
}

TEST(SimStation, AMissingPathBecomesAFifoThatOutlivesItsWriters) {
  std::string path = dir + "/made";
  auto st = hal::sim::SimStation::open(config(path));
  CHECK_TRUE(st.ok());
  struct stat sb {};
  CHECK_EQUAL(0, ::stat(path.c_str(), &sb));
  CHECK_TRUE(S_ISFIFO(sb.st_mode));
  CHECK_FALSE(readable((*st)->fd()));  // no writer yet: nothing to do, no busy loop

  for (const char* text : {"scan ONE\nclick pass\n", "scan TWO", "scan THREE\n"}) {
    int w = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
    CHECK(w >= 0);
    CHECK(::write(w, text, std::strlen(text)) > 0);
    ::close(w);
    run(**st, 10ms);  // reads the text, then EOF: reopens and waits again
    CHECK_FALSE(readable((*st)->fd()));
  }
  STRCMP_EQUAL("scan scanner ONE\npress pass\nrelease pass\nscan scanner TWO\nscan scanner THREE\n",
               events().c_str());
  CHECK_FALSE((*st)->finished());
  CHECK_TRUE((*st)->status().connected);
}

TEST(SimStation, APartialLineWaitsForTheRestFromTheSameWriter) {
  std::string path = dir + "/fifo";
  CHECK_EQUAL(0, ::mkfifo(path.c_str(), 0600));
  auto st = hal::sim::SimStation::open(config(path));
  CHECK_TRUE(st.ok());
  int w = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  CHECK(::write(w, "scan SN-0", 9) == 9);
  run(**st, 10ms);
  CHECK(out.empty());
  CHECK(::write(w, "01\n", 3) == 3);
  run(**st, 10ms);
  ::close(w);
  run(**st, 10ms);
  STRCMP_EQUAL("scan scanner SN-001\n", events().c_str());
}

TEST(SimStation, AnUnusablePathIsAnError) {
  auto st = hal::sim::SimStation::open(config(dir + "/no/such/dir/fifo"));
  CHECK_FALSE(st.ok());
  CHECK(st.error().what.rfind("sim: create FIFO " + dir + "/no/such/dir/fifo: ", 0) == 0);
}

TEST_GROUP(SimOutput){};

TEST(SimOutput, PrintsOneLinePerSet) {
  int p[2];
  CHECK_EQUAL(0, ::pipe(p));
  hal::sim::SimOutput green("green", p[1]);
  CHECK_TRUE(green.set(true).ok());
  CHECK_TRUE(green.set(false).ok());
  CHECK_FALSE(green.level());
  char buf[128] = {};
  ssize_t n = ::read(p[0], buf, sizeof buf - 1);
  CHECK(n > 0);
  STRCMP_EQUAL("output green on\noutput green off\n", buf);
  ::close(p[0]);
  ::close(p[1]);
  auto st = green.set(true);  // fd closed
  CHECK_FALSE(st.ok());
  STRCMP_CONTAINS("sim: output green: write: Bad file descriptor", st.error().what.c_str());
  CHECK_FALSE(green.status().connected);
}
