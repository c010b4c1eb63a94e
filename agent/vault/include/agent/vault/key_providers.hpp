// SPDX-License-Identifier: Apache-2.0
// Choosing a key provider: by name at provisioning (`--key-provider file|tpm2|pkcs11`) and by
// the id in the sealed file's header when opening. Providers not compiled into this build
// (ION_AGENT_TPM2 / ION_AGENT_PKCS11 off or their libraries absent) are refused with
// KeyFailure::unavailable rather than missing silently.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "agent/crypto/secret.hpp"
#include "agent/vault/key_provider.hpp"
#include "hal/result.hpp"

namespace agent {

// Reads a token PIN (from a terminal without echo, or stdin); `prompt` names the token.
using PinReader = std::function<hal::Status(const std::string& prompt, Secret& pin)>;

struct KeyProviderSettings {
  std::string state_dir;       // FileKeyProvider: <state_dir>/device.key
  std::string tcti;            // tpm2: "" = TSS conventions ($TPM2TOOLS_TCTI, $TSS2_TCTI, device)
  std::vector<unsigned> pcrs;  // tpm2, sealing only: PCRs to bind to
  std::string pkcs11_uri;      // pkcs11, sealing only: RFC 7512 URI of the token / key object
  std::string pkcs11_module;   // pkcs11, sealing only: module path ("" = module-path in the URI)
  PinReader pin_reader;        // pkcs11: when the URI has no pin-source
};

// "file" -> 1, "tpm2" -> 2, "pkcs11" -> 4; 0 for an unknown name.
std::uint8_t key_provider_id(std::string_view name);
// The short name for an id ("file", "tpm2", "pkcs11", "unknown").
const char* key_provider_short_name(std::uint8_t id);
bool key_provider_built_in(std::uint8_t id);
// The provider names this build has, for usage text ("file, tpm2, pkcs11").
std::string key_providers_built_in();

// tpm2 --pcrs: "7" or "0,2,7" into indexes 0..23 (at most 8); error text on failure.
inline constexpr unsigned kMaxTpmPcr = 23;
bool parse_pcr_list(const std::string& text, std::vector<unsigned>& out, std::string& err);

// systemd credentials (LoadCredentialEncrypted=): the device key for the file provider and the
// token PIN for the PKCS#11 provider, looked up in $CREDENTIALS_DIRECTORY when it is set.
inline constexpr const char* kDeviceKeyCredential = "ion-agent.devkey";
inline constexpr const char* kPkcs11PinCredential = "ion-agent.pkcs11-pin";
// $CREDENTIALS_DIRECTORY/<name> if the variable is set and that file exists, else "".
std::string service_credential_path(const char* name);

// On failure *why is KeyFailure::unavailable (not built in) or io (unknown id).
hal::Result<std::unique_ptr<KeyProvider>> make_key_provider(std::uint8_t id, const KeyProviderSettings& s,
                                                            KeyFailure* why = nullptr);

}  // namespace agent
