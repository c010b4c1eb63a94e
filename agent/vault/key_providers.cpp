// SPDX-License-Identifier: Apache-2.0
#include "agent/vault/key_providers.hpp"

#include <unistd.h>

#include <cstdlib>

#include "agent/vault/file_key_provider.hpp"
#include "agent/vault/vault.hpp"
#ifdef ION_AGENT_HAVE_TPM2
#include "agent/vault/tpm2_key_provider.hpp"
#endif
#ifdef ION_AGENT_HAVE_PKCS11
#include "agent/vault/pkcs11_key_provider.hpp"
#endif

namespace agent {

std::uint8_t key_provider_id(std::string_view name) {
  if (name == "file") {
    return 1;
  }
  if (name == "tpm2") {
    return 2;
  }
  if (name == "pkcs11") {
    return 4;
  }
  return 0;
}

bool parse_pcr_list(const std::string& text, std::vector<unsigned>& out, std::string& err) {
  out.clear();
  std::size_t i = 0;
  while (i <= text.size()) {
    std::size_t comma = text.find(',', i);
    std::string part = text.substr(i, comma == std::string::npos ? std::string::npos : comma - i);
    char* end = nullptr;
    unsigned long v = std::strtoul(part.c_str(), &end, 10);
    if (part.empty() || end == nullptr || *end != '\0' || v > kMaxTpmPcr) {
      err = "--pcrs: '" + part + "' is not a PCR index 0.." + std::to_string(kMaxTpmPcr) +
            " (give a list such as 7 or 0,7)";
      return false;
    }
    out.push_back(static_cast<unsigned>(v));
    if (comma == std::string::npos) {
      break;
    }
    i = comma + 1;
  }
  if (out.size() > 8) {
    err = "--pcrs: at most 8 PCRs";
    return false;
  }
  return true;
}

std::string service_credential_path(const char* name) {
  const char* dir = std::getenv("CREDENTIALS_DIRECTORY");
  if (dir == nullptr || *dir == '\0') {
    return "";
  }
  std::string p = std::string(dir) + "/" + name;
  return ::access(p.c_str(), F_OK) == 0 ? p : "";
}

const char* key_provider_short_name(std::uint8_t id) {
  switch (id) {
    case 1:
      return "file";
    case 2:
      return "tpm2";
    case 4:
      return "pkcs11";
    default:
      return "unknown";
  }
}

bool key_provider_built_in(std::uint8_t id) {
  switch (id) {
    case 1:
      return true;
#ifdef ION_AGENT_HAVE_TPM2
    case 2:
      return true;
#endif
#ifdef ION_AGENT_HAVE_PKCS11
    case 4:
      return true;
#endif
    default:
      return false;
  }
}

std::string key_providers_built_in() {
  std::string s;
  for (std::uint8_t id : {1, 2, 4}) {
    if (key_provider_built_in(id)) {
      s += (s.empty() ? "" : ", ") + std::string(key_provider_short_name(id));
    }
  }
  return s;
}

hal::Result<std::unique_ptr<KeyProvider>> make_key_provider(std::uint8_t id, const KeyProviderSettings& s,
                                                            KeyFailure* why) {
  auto set = [&](KeyFailure f) {
    if (why != nullptr) {
      *why = f;
    }
  };
  set(KeyFailure::none);
  switch (id) {
    case 1: {
      std::string cred = service_credential_path(kDeviceKeyCredential);
      if (!cred.empty()) {
        return std::unique_ptr<KeyProvider>(std::make_unique<FileKeyProvider>(
            cred, "device key from systemd credential " + std::string(kDeviceKeyCredential)));
      }
      return std::unique_ptr<KeyProvider>(
          std::make_unique<FileKeyProvider>(s.state_dir + "/" + kDeviceKeyFileName));
    }
#ifdef ION_AGENT_HAVE_TPM2
    case 2:
      return std::unique_ptr<KeyProvider>(std::make_unique<Tpm2KeyProvider>(s.tcti, s.pcrs));
#endif
#ifdef ION_AGENT_HAVE_PKCS11
    case 4:
      return std::unique_ptr<KeyProvider>(
          std::make_unique<Pkcs11KeyProvider>(s.pkcs11_uri, s.pkcs11_module, s.pin_reader));
#endif
    default:
      break;
  }
  if (id == 2 || id == 4) {
    set(KeyFailure::unavailable);
    return hal::Error(hal::Errc::config,
                      std::string("key provider '") + key_provider_short_name(id) +
                          "' is not built into this ion-agent (built in: " + key_providers_built_in() + ")");
  }
  set(KeyFailure::io);
  return hal::Error(hal::Errc::config, "unknown key provider id " + std::to_string(id));
}

}  // namespace agent
