// SPDX-License-Identifier: Apache-2.0
// Tpm2KeyProvider (key provider id 2): the vault's device secret is 32 bytes drawn from the
// TPM's RNG and sealed by the TPM as a keyed-hash data object under the storage hierarchy's
// primary key (the TCG ECC P-256 SRK template, recreated from the owner seed on every use, so
// no persistent handle is needed). Only the sealed object's public and private parts are
// stored, inside credentials.sealed; the private part is encrypted and integrity-protected
// under the SRK, so it opens on no other TPM. Optionally the object's auth policy is
// PolicyPCR over SHA-256 PCRs chosen at provisioning (e.g. 7, Secure Boot state).
//
// Random bytes, the sensitive part at Create and the Unseal result cross the TPM bus only
// inside a session salted with the SRK (AES-128-CFB parameter encryption).
//
// The TPM is reached through a TCTI configuration string (TSS conventions, opened by
// libtss2-tctildr; nothing here opens a device itself): the one given, else $TPM2TOOLS_TCTI,
// else $TSS2_TCTI, else "device:/dev/tpmrm0".
//
// Refusals (last_failure()): device_absent (TCTI cannot reach a TPM), other_device (this
// TPM's SRK is not the one that sealed: another TPM, or its owner hierarchy was cleared),
// policy (the PCR values are not those at sealing), tampered (the TPM refused the blob as
// altered), pin_locked (dictionary-attack lockout), io (anything else).
//
// Blob (big-endian): "ITP2" u8 version=1, u32 PCR mask (bit n = PCR n, SHA-256 bank), digest[32]
// of the PCR values at sealing (zeros when no PCRs), u16+SRK name, u16+TPM2B_PUBLIC, u16+TPM2B_PRIVATE
// (TSS marshalled).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "agent/vault/key_provider.hpp"

namespace agent {

class Tpm2KeyProvider final : public KeyProvider {
 public:
  static constexpr std::uint8_t kId = 2;
  static constexpr const char* kDefaultTcti = "device:/dev/tpmrm0";
  static constexpr unsigned kMaxPcr = 23;

  // tcti "": TSS conventions (above). pcrs: PCR indexes (0..23) to bind to when sealing.
  Tpm2KeyProvider(std::string tcti, std::vector<unsigned> pcrs);
  ~Tpm2KeyProvider() override;
  std::uint8_t id() const override { return kId; }
  const char* name() const override { return name_.c_str(); }
  hal::Result<KeyBytes> seal_key(std::vector<unsigned char>& blob) override;
  hal::Result<KeyBytes> open_key(const unsigned char* blob, std::size_t n) override;

  // The TCTI configuration actually used.
  const std::string& tcti() const { return tcti_; }
  // The PCRs the last opened or sealed blob is bound to ("" = none, else "7" or "0,7").
  const std::string& bound_pcrs() const { return bound_; }

  static std::string resolve_tcti(const std::string& given);

 private:
  struct Tpm;
  void set_bound(std::uint32_t mask);
  static hal::Status connect(const std::string& conf, Tpm& tpm, KeyFailure& f);
  std::string tcti_;
  std::vector<unsigned> pcrs_;
  std::string name_;
  std::string bound_;
};

}  // namespace agent
