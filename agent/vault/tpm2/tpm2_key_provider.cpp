// SPDX-License-Identifier: Apache-2.0
#include "agent/vault/tpm2_key_provider.hpp"

#include <tss2/tss2_esys.h>
#include <tss2/tss2_mu.h>
#include <tss2/tss2_rc.h>
#include <tss2/tss2_tctildr.h>

#include <cstdlib>
#include <cstring>
#include <memory>

#include "agent/crypto/crypto.hpp"

namespace agent {
namespace {

constexpr unsigned char kBlobMagic[4] = {'I', 'T', 'P', '2'};
constexpr unsigned char kBlobVersion = 1;
constexpr std::size_t kSecretSize = 32;

// The TPM response code without the handle/parameter/session number of format-one codes.
TSS2_RC base_rc(TSS2_RC rc) {
  if ((rc & TSS2_RC_LAYER_MASK) != TSS2_TPM_RC_LAYER) {
    return rc;
  }
  return (rc & TPM2_RC_FMT1) != 0 ? (rc & (TPM2_RC_FMT1 | 0x3f)) : rc;
}

bool is_tcti_layer(TSS2_RC rc) {
  return (rc & TSS2_RC_LAYER_MASK) == TSS2_TCTI_RC_LAYER;
}

// A TPM warning (format zero, severity bit): out of object or session memory, retry, yielded,
// testing... The TPM could not do it now; it says nothing about the blob.
bool is_tpm_warning(TSS2_RC rc) {
  return (rc & TSS2_RC_LAYER_MASK) == TSS2_TPM_RC_LAYER &&
         (rc & (TPM2_RC_FMT1 | TPM2_RC_WARN)) == TPM2_RC_WARN;
}

std::string rc_text(TSS2_RC rc) {
  const char* t = Tss2_RC_Decode(rc);
  return t != nullptr ? t : "unknown TSS2 error";
}

template <class T>
struct EsysDeleter {
  void operator()(T* p) const { Esys_Free(p); }
};
template <class T>
using EsysPtr = std::unique_ptr<T, EsysDeleter<T>>;

void put_u16(std::vector<unsigned char>& b, std::size_t v) {
  b.push_back(static_cast<unsigned char>(v >> 8));
  b.push_back(static_cast<unsigned char>(v));
}

void put_u32(std::vector<unsigned char>& b, std::uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) {
    b.push_back(static_cast<unsigned char>(v >> s));
  }
}

struct Reader {
  const unsigned char* p;
  std::size_t n;
  bool ok = true;
  const unsigned char* take(std::size_t k) {
    if (!ok || k > n) {
      ok = false;
      return nullptr;
    }
    const unsigned char* r = p;
    p += k;
    n -= k;
    return r;
  }
  std::uint32_t u(int bytes) {
    const unsigned char* q = take(static_cast<std::size_t>(bytes));
    std::uint32_t v = 0;
    for (int i = 0; q != nullptr && i < bytes; ++i) {
      v = (v << 8) | q[i];
    }
    return v;
  }
};

TPML_PCR_SELECTION pcr_selection(std::uint32_t mask) {
  TPML_PCR_SELECTION sel{};
  sel.count = 1;
  sel.pcrSelections[0].hash = TPM2_ALG_SHA256;
  sel.pcrSelections[0].sizeofSelect = 3;
  for (unsigned i = 0; i <= Tpm2KeyProvider::kMaxPcr; ++i) {
    if ((mask & (1u << i)) != 0) {
      sel.pcrSelections[0].pcrSelect[i / 8] |= static_cast<BYTE>(1u << (i % 8));
    }
  }
  return sel;
}

std::string pcr_list(std::uint32_t mask) {
  std::string s;
  for (unsigned i = 0; i <= Tpm2KeyProvider::kMaxPcr; ++i) {
    if ((mask & (1u << i)) != 0) {
      s += (s.empty() ? "" : ",") + std::to_string(i);
    }
  }
  return s;
}

// The TCG storage root key template: ECC NIST P-256, AES-128-CFB, restricted decryption.
TPM2B_PUBLIC srk_template() {
  TPM2B_PUBLIC t{};
  TPMT_PUBLIC& a = t.publicArea;
  a.type = TPM2_ALG_ECC;
  a.nameAlg = TPM2_ALG_SHA256;
  a.objectAttributes = TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_DECRYPT | TPMA_OBJECT_FIXEDTPM |
                       TPMA_OBJECT_FIXEDPARENT | TPMA_OBJECT_SENSITIVEDATAORIGIN | TPMA_OBJECT_USERWITHAUTH |
                       TPMA_OBJECT_NODA;
  a.parameters.eccDetail.symmetric.algorithm = TPM2_ALG_AES;
  a.parameters.eccDetail.symmetric.keyBits.aes = 128;
  a.parameters.eccDetail.symmetric.mode.aes = TPM2_ALG_CFB;
  a.parameters.eccDetail.scheme.scheme = TPM2_ALG_NULL;
  a.parameters.eccDetail.curveID = TPM2_ECC_NIST_P256;
  a.parameters.eccDetail.kdf.scheme = TPM2_ALG_NULL;
  return t;
}

}  // namespace

// One connection to the TPM: TCTI + ESYS context, the SRK and the sessions, all released on
// destruction.
struct Tpm2KeyProvider::Tpm {
  TSS2_TCTI_CONTEXT* tcti = nullptr;
  ESYS_CONTEXT* esys = nullptr;
  ESYS_TR srk = ESYS_TR_NONE;
  std::vector<ESYS_TR> handles;  // flushed at the end

  ~Tpm() {
    for (ESYS_TR h : handles) {
      Esys_FlushContext(esys, h);
    }
    if (esys != nullptr) {
      Esys_Finalize(&esys);
    }
    if (tcti != nullptr) {
      Tss2_TctiLdr_Finalize(&tcti);
    }
  }

  ESYS_TR keep(ESYS_TR h) {
    handles.push_back(h);
    return h;
  }
};

Tpm2KeyProvider::Tpm2KeyProvider(std::string tcti, std::vector<unsigned> pcrs)
    : tcti_(resolve_tcti(tcti)), pcrs_(std::move(pcrs)), name_("TPM 2.0 (" + tcti_ + ")") {}

Tpm2KeyProvider::~Tpm2KeyProvider() = default;

void Tpm2KeyProvider::set_bound(std::uint32_t mask) {
  bound_ = pcr_list(mask);
  name_ = "TPM 2.0 (" + tcti_ + (bound_.empty() ? "" : ", PCR " + bound_) + ")";
}

std::string Tpm2KeyProvider::resolve_tcti(const std::string& given) {
  if (!given.empty()) {
    return given;
  }
  for (const char* var : {"TPM2TOOLS_TCTI", "TSS2_TCTI"}) {
    const char* v = std::getenv(var);
    if (v != nullptr && *v != '\0') {
      return v;
    }
  }
  return kDefaultTcti;
}

namespace {

// What a TSS return code means for the operator: the transport failed (no TPM), the TPM is in
// dictionary-attack lockout, or anything else.
KeyFailure failure_of(TSS2_RC rc) {
  return is_tcti_layer(rc)                ? KeyFailure::device_absent
         : base_rc(rc) == TPM2_RC_LOCKOUT ? KeyFailure::pin_locked
                                          : KeyFailure::io;
}

hal::Error tpm_error(const char* what, TSS2_RC rc) {
  return hal::Error(hal::Errc::security, std::string("TPM: ") + what + ": " + rc_text(rc));
}

}  // namespace

hal::Result<KeyBytes> Tpm2KeyProvider::seal_key(std::vector<unsigned char>& blob) {
  failure_ = KeyFailure::none;
  blob.clear();
  Tpm tpm;
  KeyFailure f = KeyFailure::io;
  hal::Status st = connect(tcti_, tpm, f);
  if (!st.ok()) {
    return fail(f, std::move(st).error());
  }
  auto tpm_fail = [&](const char* what, TSS2_RC rc) { return fail(failure_of(rc), tpm_error(what, rc)); };

  // A session salted with the SRK: parameter encryption for everything secret below.
  TPMT_SYM_DEF sym{};
  sym.algorithm = TPM2_ALG_AES;
  sym.keyBits.aes = 128;
  sym.mode.aes = TPM2_ALG_CFB;
  ESYS_TR hmac = ESYS_TR_NONE;
  TSS2_RC rc = Esys_StartAuthSession(tpm.esys, tpm.srk, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                                     ESYS_TR_NONE, nullptr, TPM2_SE_HMAC, &sym, TPM2_ALG_SHA256, &hmac);
  if (rc != TSS2_RC_SUCCESS) {
    return tpm_fail("start session", rc);
  }
  tpm.keep(hmac);

  Esys_TRSess_SetAttributes(tpm.esys, hmac, TPMA_SESSION_ENCRYPT | TPMA_SESSION_CONTINUESESSION, 0xff);
  TPM2B_DIGEST* rnd_raw = nullptr;
  rc = Esys_GetRandom(tpm.esys, hmac, ESYS_TR_NONE, ESYS_TR_NONE, kSecretSize, &rnd_raw);
  EsysPtr<TPM2B_DIGEST> rnd(rnd_raw);
  if (rc != TSS2_RC_SUCCESS) {
    return tpm_fail("get random", rc);
  }
  if (rnd->size != kSecretSize) {
    return fail(KeyFailure::io, hal::Error(hal::Errc::security, "TPM: get random returned " +
                                                                    std::to_string(rnd->size) + " bytes"));
  }
  KeyBytes secret;
  std::memcpy(secret.bytes(), rnd->buffer, kSecretSize);
  secret.set_size(kSecretSize);
  secure_zero(rnd->buffer, sizeof rnd->buffer);

  std::uint32_t mask = 0;
  for (unsigned p : pcrs_) {
    mask |= 1u << p;
  }
  unsigned char pcr_digest[32] = {};
  TPM2B_PUBLIC in_public{};
  TPMT_PUBLIC& a = in_public.publicArea;
  a.type = TPM2_ALG_KEYEDHASH;
  a.nameAlg = TPM2_ALG_SHA256;
  a.objectAttributes = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT | TPMA_OBJECT_NODA;
  a.parameters.keyedHashDetail.scheme.scheme = TPM2_ALG_NULL;
  if (mask == 0) {
    a.objectAttributes |= TPMA_OBJECT_USERWITHAUTH;
  } else {
    // The PCR values now, and the policy digest a PolicyPCR over them yields.
    TPML_PCR_SELECTION sel = pcr_selection(mask);
    UINT32 counter = 0;
    TPML_PCR_SELECTION* sel_out_raw = nullptr;
    TPML_DIGEST* values_raw = nullptr;
    rc = Esys_PCR_Read(tpm.esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &sel, &counter, &sel_out_raw,
                       &values_raw);
    EsysPtr<TPML_PCR_SELECTION> sel_out(sel_out_raw);
    EsysPtr<TPML_DIGEST> values(values_raw);
    if (rc != TSS2_RC_SUCCESS) {
      return tpm_fail("read PCRs", rc);
    }
    if (values->count != static_cast<UINT32>(__builtin_popcount(mask))) {
      return fail(KeyFailure::io, hal::Error(hal::Errc::config, "TPM: the SHA-256 bank does not have PCRs " +
                                                                    pcr_list(mask) + " (is it allocated?)"));
    }
    std::vector<unsigned char> concat;
    for (UINT32 i = 0; i < values->count; ++i) {
      concat.insert(concat.end(), values->digests[i].buffer,
                    values->digests[i].buffer + values->digests[i].size);
    }
    ION_TRY(crypto::sha256(concat.data(), concat.size(), pcr_digest), "TPM: PCR digest");
    TPMT_SYM_DEF none{};
    none.algorithm = TPM2_ALG_NULL;
    ESYS_TR trial = ESYS_TR_NONE;
    rc = Esys_StartAuthSession(tpm.esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                               nullptr, TPM2_SE_TRIAL, &none, TPM2_ALG_SHA256, &trial);
    if (rc != TSS2_RC_SUCCESS) {
      return tpm_fail("start trial session", rc);
    }
    tpm.keep(trial);
    TPM2B_DIGEST want{};
    want.size = 32;
    std::memcpy(want.buffer, pcr_digest, 32);
    rc = Esys_PolicyPCR(tpm.esys, trial, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &want, &sel);
    TPM2B_DIGEST* policy_raw = nullptr;
    if (rc == TSS2_RC_SUCCESS) {
      rc = Esys_PolicyGetDigest(tpm.esys, trial, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &policy_raw);
    }
    EsysPtr<TPM2B_DIGEST> policy(policy_raw);
    if (rc != TSS2_RC_SUCCESS) {
      return tpm_fail("compute PCR policy", rc);
    }
    a.authPolicy = *policy;
  }

  TPM2B_SENSITIVE_CREATE sensitive{};
  sensitive.sensitive.data.size = kSecretSize;
  std::memcpy(sensitive.sensitive.data.buffer, secret.bytes(), kSecretSize);
  TPM2B_DATA outside{};
  TPML_PCR_SELECTION creation_pcr{};
  TPM2B_PRIVATE* priv_raw = nullptr;
  TPM2B_PUBLIC* pub_raw = nullptr;
  TPM2B_CREATION_DATA* cdata_raw = nullptr;
  TPM2B_DIGEST* chash_raw = nullptr;
  TPMT_TK_CREATION* ticket_raw = nullptr;
  Esys_TRSess_SetAttributes(tpm.esys, hmac, TPMA_SESSION_DECRYPT | TPMA_SESSION_CONTINUESESSION, 0xff);
  rc = Esys_Create(tpm.esys, tpm.srk, hmac, ESYS_TR_NONE, ESYS_TR_NONE, &sensitive, &in_public, &outside,
                   &creation_pcr, &priv_raw, &pub_raw, &cdata_raw, &chash_raw, &ticket_raw);
  secure_zero(&sensitive, sizeof sensitive);
  EsysPtr<TPM2B_PRIVATE> priv(priv_raw);
  EsysPtr<TPM2B_PUBLIC> pub(pub_raw);
  EsysPtr<TPM2B_CREATION_DATA> cdata(cdata_raw);
  EsysPtr<TPM2B_DIGEST> chash(chash_raw);
  EsysPtr<TPMT_TK_CREATION> ticket(ticket_raw);
  if (rc != TSS2_RC_SUCCESS) {
    return tpm_fail("create sealed object", rc);
  }

  TPM2B_NAME* srk_name_raw = nullptr;
  rc = Esys_TR_GetName(tpm.esys, tpm.srk, &srk_name_raw);
  EsysPtr<TPM2B_NAME> srk_name(srk_name_raw);
  if (rc != TSS2_RC_SUCCESS) {
    return tpm_fail("SRK name", rc);
  }
  unsigned char pub_buf[sizeof(TPM2B_PUBLIC)];
  unsigned char priv_buf[sizeof(TPM2B_PRIVATE)];
  std::size_t pub_len = 0, priv_len = 0;
  rc = Tss2_MU_TPM2B_PUBLIC_Marshal(pub.get(), pub_buf, sizeof pub_buf, &pub_len);
  if (rc == TSS2_RC_SUCCESS) {
    rc = Tss2_MU_TPM2B_PRIVATE_Marshal(priv.get(), priv_buf, sizeof priv_buf, &priv_len);
  }
  if (rc != TSS2_RC_SUCCESS) {
    return tpm_fail("marshal blobs", rc);
  }
  blob.insert(blob.end(), kBlobMagic, kBlobMagic + 4);
  blob.push_back(kBlobVersion);
  put_u32(blob, mask);
  blob.insert(blob.end(), pcr_digest, pcr_digest + 32);
  put_u16(blob, srk_name->size);
  blob.insert(blob.end(), srk_name->name, srk_name->name + srk_name->size);
  put_u16(blob, pub_len);
  blob.insert(blob.end(), pub_buf, pub_buf + pub_len);
  put_u16(blob, priv_len);
  blob.insert(blob.end(), priv_buf, priv_buf + priv_len);
  set_bound(mask);
  return secret;
}

hal::Result<KeyBytes> Tpm2KeyProvider::open_key(const unsigned char* data, std::size_t n) {
  failure_ = KeyFailure::none;
  const hal::Error tampered_blob(
      hal::Errc::security, "TPM: the sealed key blob is malformed (altered or truncated); provision again");
  Reader r{data, n};
  const unsigned char* magic = r.take(4);
  unsigned version = r.u(1);
  std::uint32_t mask = r.u(4);
  const unsigned char* pcr_digest = r.take(32);
  std::size_t name_len = r.u(2);
  const unsigned char* srk_name = r.take(name_len);
  std::size_t pub_len = r.u(2);
  const unsigned char* pub_buf = r.take(pub_len);
  std::size_t priv_len = r.u(2);
  const unsigned char* priv_buf = r.take(priv_len);
  if (!r.ok || r.n != 0 || std::memcmp(magic, kBlobMagic, 4) != 0 || version != kBlobVersion ||
      (mask >> (kMaxPcr + 1)) != 0 || name_len > sizeof(TPMU_NAME)) {
    return fail(KeyFailure::tampered, tampered_blob);
  }
  TPM2B_PUBLIC pub{};
  TPM2B_PRIVATE priv{};
  std::size_t off = 0;
  if (Tss2_MU_TPM2B_PUBLIC_Unmarshal(pub_buf, pub_len, &off, &pub) != TSS2_RC_SUCCESS || off != pub_len) {
    return fail(KeyFailure::tampered, tampered_blob);
  }
  off = 0;
  if (Tss2_MU_TPM2B_PRIVATE_Unmarshal(priv_buf, priv_len, &off, &priv) != TSS2_RC_SUCCESS ||
      off != priv_len) {
    return fail(KeyFailure::tampered, tampered_blob);
  }
  set_bound(mask);

  Tpm tpm;
  KeyFailure f = KeyFailure::io;
  hal::Status st = connect(tcti_, tpm, f);
  if (!st.ok()) {
    return fail(f, std::move(st).error());
  }
  auto tpm_fail = [&](const char* what, TSS2_RC rc) { return fail(failure_of(rc), tpm_error(what, rc)); };
  TPM2B_NAME* name_raw = nullptr;
  TSS2_RC rc = Esys_TR_GetName(tpm.esys, tpm.srk, &name_raw);
  EsysPtr<TPM2B_NAME> name(name_raw);
  if (rc != TSS2_RC_SUCCESS) {
    return tpm_fail("SRK name", rc);
  }
  if (name->size != name_len || std::memcmp(name->name, srk_name, name_len) != 0) {
    return fail(KeyFailure::other_device,
                hal::Error(hal::Errc::security,
                           "TPM: the key was sealed by another TPM (this TPM's storage root key differs: "
                           "credentials copied from another board, or this TPM was cleared); provision "
                           "this board again"));
  }
  ESYS_TR item = ESYS_TR_NONE;
  rc = Esys_Load(tpm.esys, tpm.srk, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &priv, &pub, &item);
  if (rc != TSS2_RC_SUCCESS) {
    if (is_tcti_layer(rc) || base_rc(rc) == TPM2_RC_LOCKOUT || is_tpm_warning(rc)) {
      return tpm_fail("load sealed object", rc);  // (TPM_RC_OBJECT_MEMORY is not tampering)
    }
    return fail(KeyFailure::tampered,
                hal::Error(hal::Errc::security, "TPM: the TPM refused the sealed key blob as altered (" +
                                                    rc_text(rc) + "); provision again"));
  }
  tpm.keep(item);

  TPMT_SYM_DEF sym{};
  sym.algorithm = TPM2_ALG_AES;
  sym.keyBits.aes = 128;
  sym.mode.aes = TPM2_ALG_CFB;
  ESYS_TR session = ESYS_TR_NONE;
  rc = Esys_StartAuthSession(tpm.esys, tpm.srk, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                             nullptr, mask != 0 ? TPM2_SE_POLICY : TPM2_SE_HMAC, &sym, TPM2_ALG_SHA256,
                             &session);
  if (rc != TSS2_RC_SUCCESS) {
    return tpm_fail("start session", rc);
  }
  tpm.keep(session);
  if (mask != 0) {
    TPML_PCR_SELECTION sel = pcr_selection(mask);
    TPM2B_DIGEST want{};
    want.size = 32;
    std::memcpy(want.buffer, pcr_digest, 32);
    rc = Esys_PolicyPCR(tpm.esys, session, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &want, &sel);
    if (rc != TSS2_RC_SUCCESS) {
      if (base_rc(rc) == TPM2_RC_VALUE) {
        return fail(KeyFailure::policy,
                    hal::Error(hal::Errc::security,
                               "TPM: PCR " + bound_ +
                                   " no longer holds the value it had at provisioning (firmware, boot "
                                   "loader or Secure Boot state changed); the key stays sealed. If the "
                                   "change was intended, provision again"));
      }
      return tpm_fail("PolicyPCR", rc);
    }
  }
  Esys_TRSess_SetAttributes(tpm.esys, session, TPMA_SESSION_ENCRYPT | TPMA_SESSION_CONTINUESESSION, 0xff);
  TPM2B_SENSITIVE_DATA* out_raw = nullptr;
  rc = Esys_Unseal(tpm.esys, item, session, ESYS_TR_NONE, ESYS_TR_NONE, &out_raw);
  EsysPtr<TPM2B_SENSITIVE_DATA> out(out_raw);
  if (rc != TSS2_RC_SUCCESS) {
    if (base_rc(rc) == TPM2_RC_POLICY_FAIL) {
      return fail(KeyFailure::tampered, hal::Error(hal::Errc::security,
                                                   "TPM: unseal refused: the PCR selection stored with the "
                                                   "key was altered; provision again"));
    }
    return tpm_fail("unseal", rc);
  }
  struct Wipe {
    TPM2B_SENSITIVE_DATA* p;
    ~Wipe() { secure_zero(p->buffer, sizeof p->buffer); }
  } wipe{out.get()};
  if (out->size != kSecretSize) {
    return fail(KeyFailure::tampered,
                hal::Error(hal::Errc::security, "TPM: unsealed key has the wrong size"));
  }
  KeyBytes secret;
  std::memcpy(secret.bytes(), out->buffer, kSecretSize);
  secret.set_size(kSecretSize);
  return secret;
}

// Connects, starts the TPM if nobody did, and recreates the SRK.
hal::Status Tpm2KeyProvider::connect(const std::string& conf, Tpm& tpm, KeyFailure& f) {
  // The TSS logs its own view of every failure to stderr; ours (below) says what it means. An
  // operator's TSS2_LOG still wins.
  ::setenv("TSS2_LOG", "all+NONE", 0);
  TSS2_RC rc = Tss2_TctiLdr_Initialize(conf.c_str(), &tpm.tcti);
  if (rc != TSS2_RC_SUCCESS) {
    f = KeyFailure::device_absent;
    return hal::Error(hal::Errc::not_found, "TPM: no TPM reachable through TCTI '" + conf + "' (" +
                                                rc_text(rc) +
                                                "); is the TPM enabled in firmware and /dev/tpmrm0 present, "
                                                "or is --tcti right?");
  }
  rc = Esys_Initialize(&tpm.esys, tpm.tcti, nullptr);
  if (rc != TSS2_RC_SUCCESS) {
    f = is_tcti_layer(rc) ? KeyFailure::device_absent : KeyFailure::io;
    return hal::Error(hal::Errc::io, "TPM: ESYS initialisation over '" + conf + "' failed: " + rc_text(rc));
  }
  rc = Esys_Startup(tpm.esys, TPM2_SU_CLEAR);
  if (rc != TSS2_RC_SUCCESS && base_rc(rc) != TPM2_RC_INITIALIZE) {
    f = KeyFailure::device_absent;
    return hal::Error(hal::Errc::io, "TPM: no answer from a TPM over '" + conf + "': " + rc_text(rc));
  }
  TPM2B_SENSITIVE_CREATE sensitive{};
  TPM2B_PUBLIC tmpl = srk_template();
  TPM2B_DATA outside{};
  TPML_PCR_SELECTION creation_pcr{};
  TPM2B_PUBLIC* pub = nullptr;
  TPM2B_CREATION_DATA* cdata = nullptr;
  TPM2B_DIGEST* chash = nullptr;
  TPMT_TK_CREATION* ticket = nullptr;
  rc =
      Esys_CreatePrimary(tpm.esys, ESYS_TR_RH_OWNER, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &sensitive,
                         &tmpl, &outside, &creation_pcr, &tpm.srk, &pub, &cdata, &chash, &ticket);
  Esys_Free(pub);
  Esys_Free(cdata);
  Esys_Free(chash);
  Esys_Free(ticket);
  if (rc != TSS2_RC_SUCCESS) {
    f = is_tcti_layer(rc)                ? KeyFailure::device_absent
        : base_rc(rc) == TPM2_RC_LOCKOUT ? KeyFailure::pin_locked
                                         : KeyFailure::io;
    return hal::Error(hal::Errc::security,
                      "TPM: cannot create the storage root key under the owner hierarchy (" + rc_text(rc) +
                          (base_rc(rc) == TPM2_RC_BAD_AUTH || base_rc(rc) == TPM2_RC_AUTH_FAIL
                               ? "; the owner hierarchy has a password, which ion-agent does not support)"
                               : ")"));
  }
  tpm.keep(tpm.srk);
  return hal::ok();
}

}  // namespace agent
