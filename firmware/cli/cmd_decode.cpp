// SPDX-License-Identifier: Apache-2.0
// `ion-agent decode`: the integrator's debugging tool for scans. Decodes one scan given as an
// argument, each line of stdin, or a recorded evdev stream (raw struct input_event records as
// read from /dev/input/eventN, e.g. `cat /dev/input/event3 > scan.evdev`) through the same
// ScanAssembler and keymap the daemon uses. Prints one JSON object per scan on stdout; an
// invalid scan also gets its reason on stderr and makes the exit status 1.
#include <sys/types.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "agent/scan/decode.hpp"
#include "commands.hpp"
#include "hal/input_records.hpp"
#include "hal/scan_assembler.hpp"

namespace firmware {
namespace {

constexpr const char* kUsage =
    "Usage: ion-agent decode [options] [SCAN]\n"
    "Decodes SCAN, or each line of stdin, or a recorded evdev stream, and prints one JSON\n"
    "object per scan: raw, symbology (AIM identifier), symbology_name, gs1 (AI -> value).\n"
    "\n"
    "  --evdev FILE          read recorded struct input_event records (from /dev/input/eventN)\n"
    "  --keymap us|de|fr|uk  layout the scanner types in (evdev only; default us)\n"
    "  --terminator enter|tab|none   key that ends a scan (evdev only; default enter)\n"
    "  --gap-ms N            inter-key gap that ends or rejects a scan (evdev only; default 250)\n"
    "  --gs-key CODE         evdev key code the scanner sends for GS/FNC1 (default: none)\n"
    "  --record-size native|24|16    record layout of FILE (default native)\n"
    "  --gs1                 parse data without AIM identifier or brackets as GS1\n"
    "\n"
    "Exit status: 0 all scans valid, 1 a scan was invalid, 64 usage error.\n";

struct Args {
  std::string evdev;
  std::string scan;
  bool have_scan = false;
  hal::ScanAssemblerOptions assembler;
  hal::RecordLayout layout = hal::RecordLayout::native;
  agent::DecodeOptions decode;
};

bool parse_number(const char* text, long max, long& out) {
  char* end = nullptr;
  errno = 0;
  out = std::strtol(text, &end, 10);
  return errno == 0 && end != text && *end == '\0' && out >= 0 && out <= max;
}

// Returns -1 when the arguments are fine, or the exit code to return now.
int parse_args(int argc, char** argv, Args& a) {
  for (int i = 0; i < argc; ++i) {
    std::string_view arg = argv[i];
    auto value = [&]() -> const char* { return i + 1 < argc ? argv[++i] : nullptr; };
    const char* v = nullptr;
    long n = 0;
    if (arg == "--help" || arg == "-h") {
      std::fputs(kUsage, stdout);
      return kExitOk;
    }
    if (arg == "--gs1") {
      a.decode.assume_gs1 = true;
      continue;
    }
    if (arg == "--evdev" || arg == "--keymap" || arg == "--terminator" || arg == "--gap-ms" ||
        arg == "--gs-key" || arg == "--record-size") {
      if ((v = value()) == nullptr) {
        std::fprintf(stderr, "ion-agent decode: %s needs a value\n", argv[i]);
        return kExitUsage;
      }
    }
    std::string err;
    if (arg == "--evdev") {
      a.evdev = v;
    } else if (arg == "--keymap") {
      auto k = hal::Keymap::by_name(v);
      k.ok() ? void(a.assembler.keymap = k.value()) : void(err = k.error().what);
    } else if (arg == "--terminator") {
      auto t = hal::parse_terminator(v);
      t.ok() ? void(a.assembler.terminator = t.value()) : void(err = t.error().what);
    } else if (arg == "--record-size") {
      auto l = hal::parse_record_layout(v);
      l.ok() ? void(a.layout = l.value()) : void(err = l.error().what);
    } else if (arg == "--gap-ms") {
      parse_number(v, 600000, n) ? void(a.assembler.gap = std::chrono::milliseconds(n))
                                 : void(err = "--gap-ms: not a number of milliseconds");
    } else if (arg == "--gs-key") {
      parse_number(v, 0x2ff, n) ? void(a.assembler.gs_key = static_cast<std::uint16_t>(n))
                                : void(err = "--gs-key: not an evdev key code (0-767)");
    } else if (arg.size() > 1 && arg[0] == '-' && arg != "--") {
      err = "unknown option '" + std::string(arg) + "'";
    } else if (!a.have_scan) {
      if (arg == "--" && i + 1 < argc) {
        arg = argv[++i];
      }
      a.scan = std::string(arg);
      a.have_scan = true;
    } else {
      err = "more than one SCAN given (quote a scan that contains spaces)";
    }
    if (!err.empty()) {
      std::fprintf(stderr, "ion-agent decode: %s\n", err.c_str());
      return kExitUsage;
    }
  }
  if (!a.evdev.empty() && a.have_scan) {
    std::fprintf(stderr, "ion-agent decode: give either --evdev FILE or SCAN, not both\n");
    return kExitUsage;
  }
  return -1;
}

// Prints one result; returns true when it is valid.
bool report(const agent::DecodedScan& d) {
  std::printf("%s\n", agent::to_json(d).c_str());
  if (!d.ok()) {
    std::fprintf(stderr, "ion-agent decode: invalid scan: %s\n", d.error.c_str());
  }
  return d.ok();
}

int decode_evdev(const Args& a) {
  std::FILE* f = a.evdev == "-" ? stdin : std::fopen(a.evdev.c_str(), "rb");
  if (f == nullptr) {
    std::fprintf(stderr, "ion-agent decode: open %s: %s\n", a.evdev.c_str(), std::strerror(errno));
    return kExitFailure;
  }
  std::string bytes;
  char buf[4096];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;) {
    bytes.append(buf, n);
  }
  if (f != stdin) {
    std::fclose(f);
  }
  std::vector<input_event> events;
  std::size_t used = hal::parse_input_records(bytes, a.layout, events);
  hal::ScanAssembler assembler(a.assembler);
  std::vector<hal::ScanRead> reads;
  for (const auto& ev : events) {
    assembler.feed(ev, reads);
  }
  assembler.flush_idle(reads);  // the end of the recording ends a scan in progress
  bool all_ok = true;
  for (const auto& r : reads) {
    agent::DecodedScan d;
    if (r.error.empty()) {
      d = agent::decode_scan(r.text, a.decode);
    } else {
      d.raw = r.text;
      d.error = "scanner: " + r.error;
    }
    all_ok = report(d) && all_ok;
  }
  if (used != bytes.size()) {
    std::fprintf(
        stderr, "ion-agent decode: %s: %zu trailing bytes are not a whole %zu-byte record (--record-size?)\n",
        a.evdev.c_str(), bytes.size() - used, hal::record_size(a.layout));
    return kExitFailure;
  }
  return all_ok ? kExitOk : kExitFailure;
}

}  // namespace

int cmd_decode(int argc, char** argv) {
  Args a;
  if (int rc = parse_args(argc, argv, a); rc >= 0) {
    return rc;
  }
  if (!a.evdev.empty()) {
    return decode_evdev(a);
  }
  if (a.have_scan) {
    return report(agent::decode_scan(a.scan, a.decode)) ? kExitOk : kExitFailure;
  }
  bool all_ok = true;
  // getline(3) rather than std::getline(std::cin): iostreams would link the std::locale
  // facets into the static embedded binary. Same lines: a last one without '\n' counts.
  char* buf = nullptr;
  std::size_t cap = 0;
  for (ssize_t n; (n = ::getline(&buf, &cap, stdin)) >= 0;) {
    std::string line(buf, static_cast<std::size_t>(n));
    if (!line.empty() && line.back() == '\n') {
      line.pop_back();
    }
    if (!line.empty() && line.back() == '\r') {
      line.pop_back();
    }
    if (!line.empty()) {
      all_ok = report(agent::decode_scan(line, a.decode)) && all_ok;
    }
  }
  std::free(buf);
  return all_ok ? kExitOk : kExitFailure;
}

}  // namespace firmware
