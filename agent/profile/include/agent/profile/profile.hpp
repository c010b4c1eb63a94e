// SPDX-License-Identifier: Apache-2.0
// Station profile: the one JSON file a manufacturing engineer writes (README "The demo, the daemon and
// station profiles"). It names the station's inputs and outputs, the rules that turn inputs into
// intents, feedback patterns, outbox limits, logging and metrics. The ION environment (API and
// token URLs) is sealed with the key at provisioning; a profile only adds network settings.
//
// Loading validates the whole file before anything starts and reports *every* problem, one
// per line, as `FILE: $.json.path: reason` (JSON syntax errors as `FILE:LINE:COL (byte N)`),
// in an Error with code Errc::config. A Profile value is immutable once loaded; SIGHUP builds
// a new one and swaps it in only if it loaded cleanly.
//
// Keys are described in tables (schema.cpp, after Fluent Bit's config_map), each row with the
// key's type, range and a one-line meaning; the engine that reads them is key_table.hpp.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "agent/intent/interlock.hpp"
#include "agent/profile/regex.hpp"
#include "hal/log.hpp"
#include "hal/result.hpp"

namespace agent {

// Network settings for ION (same keys as firmware/cli/ion_connection's apply_profile_network; see
// agent/http_settings.hpp). Empty strings leave the provisioned / default value.
struct IonSettings {
  std::string ca_file;            // PEM bundle
  std::string ca_path;            // hashed CA directory
  std::string pinned_public_key;  // "sha256//..." or a key file
  std::string proxy;              // proxy URL, "direct" = none, "" = environment
  int connect_timeout_ms = 10000;
  int timeout_ms = 30000;
  // Delivery retries: capped exponential backoff with full jitter (agent/dispatcher.hpp).
  // Tests shrink the cap to compress long outages; the defaults suit a real station.
  int retry_base_ms = 500;
  int retry_cap_ms = 300000;
  // A rejected key (invalid_client: revoked or wrong) is tried again only this often.
  int rejected_retry_ms = 900000;
  // Lookups of many intents share one GraphQL document, mutations another (aliases), at most
  // this many requests each (agent/net/curl_graphql_client.hpp); 1 = no batching.
  int batch_max = 25;
  // While the link is down, a link, address or route coming back (the kernel's netlink
  // socket) ends the backoff within 0-2 s instead of waiting for the next probe.
  bool watch_network = true;
};

// One input. Keys mirror the HAL option structs (hal/linux/*_scanner.hpp, hal/gpio_spec.hpp);
// firmware/wiring maps them. -1 / empty = the device's own default.
struct InputSpec {
  enum class Type { evdev, serial, gpio, sim, instrument, folder };
  std::string name;
  Type type = Type::sim;
  // scanners (evdev, serial)
  std::string device;      // path; evdev may give `usb` instead
  std::string usb;         // evdev: "05e0:1200" (VID:PID)
  bool grab = true;        // evdev: EVIOCGRAB so scans never reach a console
  std::string keymap;      // evdev: us | de | fr | uk
  std::string terminator;  // evdev: enter | tab | none; serial: cr | lf | crlf | none
  int gap_ms = -1;         // longest pause inside one scan
  int max_length = 256;    // longest accepted barcode (bytes)
  int baud = 9600;         // serial
  std::string parity;      // serial: none | even | odd
  int data_bits = 8;       // serial
  int stop_bits = 1;       // serial
  // gpio
  std::string chip;       // "gpiochip0", a path, a label or a number
  int line = -1;          // offset, or
  std::string line_name;  // a device-tree line name
  bool active_low = false;
  std::string bias;  // as-is | disabled | pull-up | pull-down
  int debounce_ms = 20;
  int long_press_ms = 0;  // gpio, sim: emit long_press after this (0 = never)
  // instrument (scale, gauge, tester; agent/reading parses its replies): `port` is kept in
  // `device`; the serial keys above apply to a port, `terminator` ends a sent command.
  std::string tcp;                 // "host:port" instead of a serial port
  std::string mode = "stream";     // stream (it sends lines) | query (we send `command`)
  std::string dialect;             // mt-sics | scpi | line, or
  std::string parse_source;        // a reply ERE: group 1 = value, group 2 = unit
  std::optional<Regex> parse;      // compiled `parse`
  std::string command;             // query: sent on a trigger ({"read": NAME}), e.g. "SI"
  int timeout_ms = 2000;           // query: a reply must come within this
  int interval_ms = 0;             // query: also read this often while a unit is current (0 = off)
  std::string unit;                // the unit readings are checked against / converted to
  std::optional<double> min, max;  // limits: outside them a reading gives out_of_limits
  bool stable_only = true;         // mt-sics: refuse dynamic (unsettled) weights
  // folder (a test stand's output directory, hal/folder.hpp): files matching `pattern` that
  // are closed after writing or moved in become "file" events; larger than max_mb: refused.
  std::string path;           // the directory (absolute)
  std::string pattern = "*";  // fnmatch glob on the file name, e.g. "*.csv"
  int max_file_mb = 16;       // largest file taken (MiB)
  bool is_scanner() const { return type == Type::evdev || type == Type::serial; }
  bool is_instrument() const { return type == Type::instrument; }
  bool is_folder() const { return type == Type::folder; }
};

struct OutputSpec {
  enum class Type { gpio, sim };
  std::string name;
  Type type = Type::sim;
  std::string chip;
  int line = -1;
  std::string line_name;
  bool active_low = false;
  std::string drive;  // push-pull | open-drain | open-source
};

// What one output does for a signal or an output action, in hal::OutputPattern's text form
// ("pulse 300ms", "blink 200ms x3", "blink 100ms/400ms x2").
struct Pattern {
  std::string output;
  std::string pattern;
};

// Why the station lights up. Each has its own pattern so an operator can tell them apart.
// interlock: a `require`d ION condition does not hold (or could not be checked and the rule
// says "offline": "refuse"). bad_reading: an instrument reply refused (unstable, overload,
// garbage, wrong unit) or none came (timeout, disconnected); out_of_limits: a good reading
// outside the input's min/max. bad_file: a folder input's file refused (name not matching the
// pattern, unreadable, too large, vanished before it was copied).
enum class Signal {
  accepted,
  bad_scan,
  no_unit,
  queue_full,
  storage_error,
  not_matched,
  interlock,
  out_of_limits,
  bad_reading,
  bad_file
};
constexpr int kSignalCount = 10;
const char* to_string(Signal s) noexcept;

struct Action {
  enum class Kind { set, clear, intent, output, read };
  Kind kind = Kind::set;
  std::string key;          // set / clear: context key ("*" clears everything); read: instrument
  std::string value;        // set: template
  std::string intent_kind;  // intent: "run.ensure", ...
  std::string inputs_json;  // intent: JSON object whose string leaves are templates
  Pattern pattern;          // output
};

struct Rule {
  std::string on;                // input name
  std::string event = "scan";    // scan | press | release | long_press | reading | file
  std::string match_source;      // the regex (POSIX ERE, agent/regex.hpp) as written
  std::optional<Regex> match;    // compiled; empty = any text
  std::vector<std::string> gs1;  // AIs that must be present, e.g. {"01", "21"}
  std::vector<Action> actions;
  // Quality interlocks (agent/intent/interlock.hpp): ION conditions checked before the
  // intents are accepted; at_location's arg is a template. `offline`: what to do when ION
  // cannot answer in time (accept = queue and record that the check was skipped).
  std::vector<Condition> require;
  enum class Offline { refuse, accept };
  Offline offline = Offline::refuse;
};

struct InterlockSettings {
  int timeout_ms = 2000;  // longest wait for ION's answer before "offline" decides
  int cache_s = 30;       // a passed check of a unit is reused this long (scan, then press)
};

struct OutboxSettings {
  int max_mb = 64;           // database size bound; beyond it append() refuses ("queue full")
  int retention_hours = 72;  // delivered intents kept for `ion-agent queue list`
};

struct ContextSettings {
  // The station context (current unit, operator, ...) survives restarts in the outbox; one
  // saved longer ago than this is dropped at start or reload (0 = never too old).
  int max_age_s = 12 * 3600;
};

struct MetricsSettings {
  std::string textfile;  // node_exporter textfile path; empty = off
  int interval_s = 15;
};

struct Profile {
  std::string file;      // where it came from (for messages)
  std::string station;   // station name (status, metrics label, issue text)
  std::string location;  // the station's ION location name: {station.location}; "" = none
  IonSettings ion;
  std::vector<InputSpec> inputs;
  std::vector<OutputSpec> outputs;
  std::vector<Rule> rules;
  std::map<Signal, std::vector<Pattern>> feedback;
  OutboxSettings outbox;
  hal::log::Level log_level = hal::log::Level::info;
  MetricsSettings metrics;
  InterlockSettings interlocks;
  ContextSettings context;

  const InputSpec* input(const std::string& name) const;
  const OutputSpec* output(const std::string& name) const;
};

// Parses and validates `text`; `file` is used only in messages.
hal::Result<Profile> parse_profile(const std::string& text, const std::string& file);
// Reads and parses a file (at most 1 MiB).
hal::Result<Profile> load_profile(const std::string& path);

}  // namespace agent
