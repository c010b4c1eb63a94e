// SPDX-License-Identifier: Apache-2.0
// The ion-agent subcommands. Each lives in its own cmd_<name>.cpp and is listed once in the
// table in main.cpp. A command gets argv after its own name and returns the process exit code.
#pragma once

#include <string_view>

namespace firmware {

struct Command {
  std::string_view name;
  int (*run)(int argc, char** argv);
  std::string_view summary;
};

// Exit codes shared by all commands (sysexits.h where one fits).
enum Exit : int {
  kExitOk = 0,
  kExitFailure = 1,
  kExitUsage = 64,  // EX_USAGE
  // provision / check: one code per failing step (README "Provisioning and checking").
  kExitNotProvisioned = 10,    // no sealed credentials in the state directory
  kExitVaultPermissions = 11,  // credentials.sealed or device.key readable by group/others
  kExitVaultFormat = 12,       // not a credentials file / unknown format version
  kExitVaultAuth = 13,         // authentication failed: altered, or another board / device key
  kExitVaultIo = 14,           // state directory, device key or machine-id unreadable
  kExitConfig = 15,            // --config / --ca-file / URL / option value invalid
  // run (and the commands that write the state directory): README "Exit codes".
  kExitLocked = 16,          // another ion-agent process holds the state directory's lock
  kExitOutboxCorrupt = 17,   // outbox.db is damaged; left untouched (a restart cannot help)
  kExitOutboxSchema = 18,    // outbox.db has a newer schema than this program (downgrade)
  kExitOutboxStorage = 19,   // outbox.db / state directory unusable for now (I/O, disk, busy)
  kExitNetwork = 20,         // DNS, connect, proxy or timeout
  kExitTls = 21,             // TLS certificate / CA / pinned key verification failed
  kExitCredentials = 22,     // token endpoint: invalid_client (wrong, revoked or other-env key)
  kExitTokenEndpoint = 23,   // token endpoint failed otherwise
  kExitUnauthorized = 24,    // /graphql refused the token (wrong environment, revoked)
  kExitQueryMe = 25,         // the `me` query failed
  kExitQueryInventory = 26,  // the partInventories query failed
  kExitRateLimited = 27,     // 429 from ION
  kExitServer = 28,          // 5xx from ION
  // hardware-bound key providers (README "Key providers"): one code per refusal.
  kExitKeyOtherDevice = 30,   // sealed by another TPM / key object not on this token
  kExitKeyPolicy = 31,        // TPM PCR values changed since provisioning
  kExitKeyDeviceAbsent = 32,  // no TPM / token / PKCS#11 module reachable
  kExitKeyWrongPin = 33,      // token PIN incorrect
  kExitKeyPinLocked = 34,     // token PIN locked / TPM dictionary-attack lockout
  kExitKeyTampered = 35,      // the TPM / token refused the stored key blob as altered
  kExitKeyUnavailable = 36,   // key provider not built into this binary
  kExitCantSave = 73,         // EX_CANTCREAT: could not write the sealed credentials
};

int cmd_version(int argc, char** argv);
int cmd_run(int argc, char** argv);
int cmd_provision(int argc, char** argv);
int cmd_check(int argc, char** argv);
int cmd_queue(int argc, char** argv);
int cmd_status(int argc, char** argv);
int cmd_decode(int argc, char** argv);

}  // namespace firmware
