// SPDX-License-Identifier: Apache-2.0
// ion-agent: command-line entry point. Dispatches to the subcommands in commands.hpp.
#include <signal.h>
#include <sys/prctl.h>

#include <cstdio>
#include <cstring>
#include <exception>
#include <string_view>

#include "commands.hpp"
#include "version.hpp"

namespace firmware {
namespace {

constexpr Command kCommands[] = {
    {"version", cmd_version, "print version and library versions"},
    {"run", cmd_run, "run the station daemon (profile, inputs, outbox, delivery)"},
    {"provision", cmd_provision, "seal an ION API key (read from stdin) on this board"},
    {"check", cmd_check, "prove the sealed key works: token, me query, one inventory query"},
    {"status", cmd_status, "queue depth, oldest pending, dead letters, last delivery, link, token"},
    {"queue", cmd_queue, "list, show, retry or drop intents in the outbox (dead letters)"},
    {"decode", cmd_decode, "decode a scan (argument, stdin or recorded evdev stream) to JSON"},
};

void print_help(std::FILE* out) {
  std::fprintf(out,
               "Usage: ion-agent [--help] [--version] <command> [options]\n"
               "\n"
               "Reads barcode scanners and station inputs and delivers them to First Resonance ION,\n"
               "keeping every accepted event on the board while the network is away.\n"
               "\n"
               "Commands:\n");
  for (const auto& c : kCommands) {
    std::fprintf(out, "  %-10.*s %.*s\n", static_cast<int>(c.name.size()), c.name.data(),
                 static_cast<int>(c.summary.size()), c.summary.data());
  }
  std::fprintf(out, "\nRun 'ion-agent <command> --help' for a command's options.\n");
}

int dispatch(int argc, char** argv) {
  if (argc < 2) {
    print_help(stderr);
    return kExitUsage;
  }
  std::string_view first = argv[1];
  if (first == "--help" || first == "-h" || first == "help") {
    print_help(stdout);
    return kExitOk;
  }
  if (first == "--version" || first == "-V") {
    std::printf("ion-agent %s\n", ION_AGENT_VERSION);
    return kExitOk;
  }
  for (const auto& c : kCommands) {
    if (c.name == first) {
      return c.run(argc - 2, argv + 2);
    }
  }
  std::fprintf(stderr, "ion-agent: unknown command '%s' (see 'ion-agent --help')\n", argv[1]);
  return kExitUsage;
}

}  // namespace
}  // namespace firmware

int main(int argc, char** argv) {
  // Secrets (API key, tokens) live in this process's memory: no core dumps, no ptrace by
  // other users' processes, /proc/<pid>/environ and mem readable by root only.
  ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  // libcurl runs with CURLOPT_NOSIGNAL, so a peer closing a TLS connection mid-write must not
  // kill the process: write errors are handled as transport failures instead.
  ::signal(SIGPIPE, SIG_IGN);
#if defined(__cpp_exceptions)
  try {
    return firmware::dispatch(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ion-agent: fatal: %s\n", e.what());
  } catch (...) {
    std::fprintf(stderr, "ion-agent: fatal: unknown exception\n");
  }
  return firmware::kExitFailure;
#else
  // The embedded build has no exceptions: the only ones the standard library raises here
  // (std::bad_alloc and friends) end in std::terminate, an abort that systemd restarts from;
  // every accepted event is already on disk (agent/README.md).
  return firmware::dispatch(argc, argv);
#endif
}
